#!/bin/sh
# Starts one OMS service with `exec`, so the service process (nameko) is PID 1 and receives SIGTERM.
set -eu

service="${1:-}"
[ $# -gt 0 ] && shift

run() {  # run <directory> <module:Class>
    cd "$1"
    exec python -m nameko run --config "$1/config.yml" "$2"
}

case "$service" in
    orders)        run /app/services/orders orders.service:OrdersService ;;
    payments)      run /app/services/payments payments.service:PaymentsService ;;
    notifications) run /app/services/notifications notifications.service:NotificationsService ;;
    exports)       run /app/services/exports exports.service:ExportsService ;;
    documents)     run /app/services/documents documents.service:DocumentsService ;;
    gateway)       run /app/gateway gateway.service:GatewayService ;;
    migrate)       exec python /app/tools/migrate.py ;;
    healthcheck)   exec python -m oms_common.healthcheck "$@" ;;
    oms)           exec oms "$@" ;;
    *)
        echo "usage: oms-entrypoint gateway|orders|payments|notifications|exports|documents|migrate|healthcheck <service>|oms <args>" >&2
        exit 64 ;;
esac
