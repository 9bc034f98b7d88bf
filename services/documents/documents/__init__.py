"""OMS documents service: shop profile, invoices and credit notes."""
