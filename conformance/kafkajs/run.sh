#!/usr/bin/env bash
# kafkajs (the repo's devDependency) against a real Samsa broker. The snappy and lz4 codecs that kafkajs
# documents (kafkajs-snappy, kafkajs-lz4) are installed from npm into the conformance cache. See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init kafkajs
CODECS="$CONF_CACHE/kafkajs-codecs"
if [ ! -d "$REPO_ROOT/node_modules/kafkajs" ]; then
  echo "installing the repo's npm dependencies (npm ci)"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) >"$CONF_CACHE/kafkajs-install.log" 2>&1 || install_failed kafkajs "$CONF_CACHE/kafkajs-install.log"
fi
if [ ! -f "$CODECS/.complete" ]; then
  echo "installing kafkajs-snappy and kafkajs-lz4 from npm into $CODECS"
  mkdir -p "$CODECS"
  # lz4 builds a native addon with node-gyp, which would download Node's headers from a host this machine
  # cannot reach: point it at the installed ones (the package's prebuilt binary is not for Linux)
  nodedir=()
  [ -f /usr/include/node/node_version.h ] && nodedir=(--nodedir=/usr)
  npm install --no-audit --no-fund --no-save "${nodedir[@]}" --prefix "$CODECS" kafkajs-snappy@1.1.0 kafkajs-lz4@1.2.1 \
    >"$CONF_CACHE/kafkajs-install.log" 2>&1 || install_failed kafkajs "$CONF_CACHE/kafkajs-install.log"
  touch "$CODECS/.complete"
fi
export KAFKAJS_CODECS="$CODECS"
echo "kafkajs $(node -p "require('$REPO_ROOT/node_modules/kafkajs/package.json').version")"
trap samsa_cleanup EXIT
samsa_start || install_failed kafkajs "$SAMSA_LOG"
cd "$REPO_ROOT"
for s in metadata create-describe-delete-topic compression-none compression-gzip compression-snappy \
    compression-lz4 compression-zstd keyed-partitioning group-commit-resume describe-configs \
    idempotent-produce headers-null-key-value large-message consume-from-timestamp acks-0; do
  check "$s" timeout 120 node --import tsx conformance/kafkajs/scenarios.ts "$BOOTSTRAP" "$s"
done
# @kafkajs/confluent-schema-registry against the built-in Schema Registry ($REGISTRY_URL, from lib.sh).
for s in sr-avro-roundtrip sr-avro-evolution sr-json-roundtrip sr-protobuf-roundtrip; do
  check "$s" timeout 120 node --import tsx conformance/kafkajs/registry.ts "$BOOTSTRAP" "$REGISTRY_URL" "$s"
done
summary kafkajs
