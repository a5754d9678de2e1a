#!/bin/sh
# A stand-in credential plugin for tst_kubeconfig. It counts its runs in $PLUGIN_COUNT_FILE,
# keeps the KUBERNETES_EXEC_INFO it got in $PLUGIN_COUNT_FILE.info, and answers per $PLUGIN_MODE.
n=$(cat "$PLUGIN_COUNT_FILE" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$PLUGIN_COUNT_FILE"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$PLUGIN_COUNT_FILE.info"
case "$PLUGIN_MODE" in
fail)
    echo "login required: run 'cloud auth login' first" >&2
    exit 3 ;;
hang)
    sleep 600 ;;
flood)
    head -c 3000000 /dev/zero | tr '\0' 'x'
    exit 0 ;;
garbage)
    echo "this is not json"
    exit 0 ;;
esac
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"token-%s","expirationTimestamp":"%s"}}\n' \
    "$n" "$PLUGIN_EXPIRY"
