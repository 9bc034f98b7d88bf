"""Document routes: the shop profile (admin only) and the documents issued for an order."""
from documents import schemas as wire

from ..router import router

TAGS = ["documents"]


@router.route("GET", "/api/v1/settings/shop-profile", "settings.write",
              "The shop profile that issues invoices (admin only: it holds the bank account)", TAGS)
def get_shop_profile(ctx):
    return ctx.call("documents", "get_shop_profile")


@router.route("PUT", "/api/v1/settings/shop-profile", "settings.write",
              "Replace the shop profile: legal name, address, VAT number, accounts, terms", TAGS,
              body=wire.ShopProfileSchema)
def put_shop_profile(ctx):
    return ctx.call("documents", "put_shop_profile", ctx.body(), ctx.actor)
