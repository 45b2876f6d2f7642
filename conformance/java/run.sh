#!/usr/bin/env bash
# The Java client (kafka-clients) and Kafka's own command-line tools, 3.9.x and 4.x, against a real Samsa
# broker. Jars come from Maven Central: a generated pom per version, `mvn dependency:copy-dependencies`
# into the conformance cache; the tools run as `java -cp ... <tool class>` (the .sh wrappers are not on
# Maven Central). See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init java
DIR="$(cd "$(dirname "$0")" && pwd)"
VERSIONS=(${JAVA_KAFKA_VERSIONS:-3.9.2 4.4.0})
command -v java >/dev/null && command -v mvn >/dev/null || {
  echo "installing Java 17 and Maven (Debian packages)"
  (apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless maven) >"$CONF_CACHE/java-install.log" 2>&1 \
    || install_failed java "$CONF_CACHE/java-install.log"
}

# java_setup V: jars of kafka-clients, kafka-tools and kafka_2.13 V with their runtime dependencies in
# $CONF_CACHE/java/V/lib, Scenarios.java compiled into .../classes.
java_setup() {
  local v="$1" d="$CONF_CACHE/java/$1" extra=""
  if [ ! -f "$d/lib/.complete" ]; then
    echo "fetching Kafka $v jars from Maven Central into $d/lib"
    rm -rf "$d/lib"; mkdir -p "$d"
    # 4.x tools log through log4j2 with no slf4j 1.7 binding: slf4j-simple prints their warnings
    case "$v" in 3.*) ;; *) extra='<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>1.7.36</version></dependency>' ;; esac
    cat >"$d/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>samsa.conformance</groupId><artifactId>kafka-$v</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-clients</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$v</version></dependency>
    $extra
  </dependencies>
</project>
POM
    (cd "$d" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime) \
      >"$CONF_CACHE/java-install-$v.log" 2>&1 || return 1
    touch "$d/lib/.complete"
  fi
  if [ ! -f "$d/classes/Scenarios.class" ] || [ "$DIR/Scenarios.java" -nt "$d/classes/Scenarios.class" ]; then
    mkdir -p "$d/classes"
    javac -nowarn -d "$d/classes" -cp "$d/lib/*" "$DIR/Scenarios.java" >"$CONF_CACHE/java-install-$v.log" 2>&1 || return 1
  fi
}

jvm() {
  local v="$1"; shift
  timeout 120 java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j.configuration="file:$DIR/log4j.properties" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$CONF_CACHE/java/$v/classes:$CONF_CACHE/java/$v/lib/*" "$@"
}

# Tool classes: what bin/kafka-*.sh runs in each version.
tool() {
  local v="$1" name="$2"; shift 2
  local cls
  case "$name:$v" in
    topics:*) cls=org.apache.kafka.tools.TopicCommand ;;
    console-producer:3.*) cls=kafka.tools.ConsoleProducer ;;
    console-producer:*) cls=org.apache.kafka.tools.ConsoleProducer ;;
    console-consumer:*) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    consumer-groups:*) cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    producer-perf-test:*) cls=org.apache.kafka.tools.ProducerPerformance ;;
    configs:3.*) cls=kafka.admin.ConfigCommand ;;
    configs:*) cls=org.apache.kafka.tools.ConfigCommand ;;
  esac
  jvm "$v" "$cls" "$@"
}

scenario() { jvm "$1" Scenarios "$BOOTSTRAP" "$2"; }

# compression: the records read back, and the batches on the broker's disk carry the codec
compression() {
  local v="$1" codec="$2" out topic stored
  out="$(scenario "$v" "compression-$codec" 2>&1)" || { echo "$out"; return 1; }
  topic="$(echo "$out" | sed -n 's/^TOPIC //p')"
  stored="$(cd "$REPO_ROOT" && node --import tsx conformance/tools/batch-codecs.ts "$SAMSA_DATA/$topic-0" | tr '\n' ' ')"
  [ "$stored" = "$codec " ] || { echo "stored codecs: '$stored', expected '$codec'"; return 1; }
}

tools_topics() {
  local v="$1" t="tools-topics-$RANDOM$RANDOM" out
  tool "$v" topics --bootstrap-server "$BOOTSTRAP" --create --topic "$t" --partitions 3 --replication-factor 1 --config retention.ms=3600000 || return 1
  out="$(tool "$v" topics --bootstrap-server "$BOOTSTRAP" --list)" || return 1
  echo "$out" | grep -qx "$t" || { echo "--list: $out"; return 1; }
  out="$(tool "$v" topics --bootstrap-server "$BOOTSTRAP" --describe --topic "$t")" || { echo "$out"; return 1; }
  echo "$out"
  echo "$out" | grep -q "PartitionCount: 3" || return 1
  echo "$out" | grep -q "retention.ms=3600000" || return 1
  tool "$v" topics --bootstrap-server "$BOOTSTRAP" --alter --topic "$t" --partitions 4 || return 1
  tool "$v" topics --bootstrap-server "$BOOTSTRAP" --describe --topic "$t" | grep -q "PartitionCount: 4" || { echo "--alter --partitions 4 not applied"; return 1; }
  tool "$v" topics --bootstrap-server "$BOOTSTRAP" --delete --topic "$t" || return 1
  sleep 0.5
  tool "$v" topics --bootstrap-server "$BOOTSTRAP" --list | grep -qx "$t" && { echo "still listed after --delete"; return 1; }
  return 0
}

# console producer with keys and headers, console consumer (group protocol with a random group) reading
# them back with print.key and print.headers
tools_console() {
  local v="$1" t="tools-console-$RANDOM$RANDOM" w rp=--reader-property fp=--formatter-property
  # 4.x deprecates --property (and prints that to stdout); 3.9 has only --property
  case "$v" in 3.*) rp=--property; fp=--property ;; esac
  w="$(mktemp -d)"
  for i in $(seq 1 200); do printf 'h1:one,h2:%s\tkey-%s\tvalue %s\n' "$i" "$i" "$i"; done >"$w/in.txt"
  tool "$v" console-producer --bootstrap-server "$BOOTSTRAP" --topic "$t" --compression-codec lz4 \
    $rp parse.key=true $rp parse.headers=true <"$w/in.txt" || return 1
  tool "$v" console-consumer --bootstrap-server "$BOOTSTRAP" --topic "$t" --from-beginning --max-messages 200 \
    --timeout-ms 30000 $fp print.key=true $fp print.headers=true >"$w/out.txt" || { cat "$w/out.txt"; return 1; }
  diff "$w/in.txt" "$w/out.txt" | head -5
  cmp -s "$w/in.txt" "$w/out.txt"
}

tools_groups() {
  local v="$1" t="tools-groups-$RANDOM$RANDOM" g="tools-group-$RANDOM" out
  seq 1 100 | tool "$v" console-producer --bootstrap-server "$BOOTSTRAP" --topic "$t" || return 1
  tool "$v" console-consumer --bootstrap-server "$BOOTSTRAP" --topic "$t" --group "$g" --from-beginning \
    --max-messages 100 --timeout-ms 30000 >/dev/null || return 1
  out="$(tool "$v" consumer-groups --bootstrap-server "$BOOTSTRAP" --list)" || { echo "$out"; return 1; }
  echo "$out" | grep -qx "$g" || { echo "--list: $out"; return 1; }
  out="$(tool "$v" consumer-groups --bootstrap-server "$BOOTSTRAP" --describe --group "$g")" || { echo "$out"; return 1; }
  echo "$out"
  # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG ...
  echo "$out" | awk -v t="$t" '$2 == t && $3 == 0 && $4 == 100 && $5 == 100 && $6 == 0 { ok = 1 } END { exit !ok }' || return 1
  out="$(tool "$v" consumer-groups --bootstrap-server "$BOOTSTRAP" --reset-offsets --group "$g" --topic "$t" --to-earliest --execute)" || { echo "$out"; return 1; }
  out="$(tool "$v" consumer-groups --bootstrap-server "$BOOTSTRAP" --describe --group "$g")" || { echo "$out"; return 1; }
  echo "$out" | awk -v t="$t" '$2 == t && $4 == 0 && $6 == 100 { ok = 1 } END { exit !ok }' || { echo "after --reset-offsets --to-earliest: $out"; return 1; }
  tool "$v" consumer-groups --bootstrap-server "$BOOTSTRAP" --delete --group "$g" || return 1
}

tools_perf() {
  local v="$1" t="tools-perf-$RANDOM$RANDOM" out props=--command-property
  case "$v" in 3.*) props=--producer-props ;; esac   # 4.x deprecates --producer-props
  out="$(tool "$v" producer-perf-test --topic "$t" --num-records 50000 --record-size 100 --throughput -1 \
    $props "bootstrap.servers=$BOOTSTRAP" 2>&1)" || { echo "$out"; return 1; }
  echo "$out" | tail -2
  echo "$out" | grep -q '^50000 records sent' || return 1
}

tools_configs() {
  local v="$1" t="tools-configs-$RANDOM$RANDOM" out
  tool "$v" topics --bootstrap-server "$BOOTSTRAP" --create --topic "$t" --partitions 1 --replication-factor 1 --config retention.ms=3600000 >/dev/null || return 1
  out="$(tool "$v" configs --bootstrap-server "$BOOTSTRAP" --entity-type topics --entity-name "$t" --describe)" || { echo "$out"; return 1; }
  echo "$out"
  echo "$out" | grep -q 'retention.ms=3600000' || return 1
  tool "$v" configs --bootstrap-server "$BOOTSTRAP" --entity-type topics --entity-name "$t" --alter --add-config retention.ms=1000000,cleanup.policy=compact || return 1
  out="$(tool "$v" configs --bootstrap-server "$BOOTSTRAP" --entity-type topics --entity-name "$t" --describe)" || { echo "$out"; return 1; }
  echo "$out" | grep -q 'retention.ms=1000000' && echo "$out" | grep -q 'cleanup.policy=compact' || { echo "after --alter: $out"; return 1; }
  out="$(tool "$v" configs --bootstrap-server "$BOOTSTRAP" --entity-type brokers --entity-name 1 --describe --all)" || { echo "$out"; return 1; }
  echo "$out" | grep -q 'num.partitions=' || { echo "brokers --describe --all: $out"; return 1; }
}

java -version 2>&1 | head -1
for v in "${VERSIONS[@]}"; do
  java_setup "$v" || install_failed java "$CONF_CACHE/java-install-$v.log"
done
trap samsa_cleanup EXIT
samsa_start || install_failed java "$SAMSA_LOG"
for v in "${VERSIONS[@]}"; do
  echo "--- kafka-clients and tools $v"
  check "$v/metadata" scenario "$v" metadata
  check "$v/create-describe-delete-topic" scenario "$v" create-describe-delete-topic
  for codec in none gzip snappy lz4 zstd; do
    check "$v/compression-$codec" compression "$v" "$codec"
  done
  for s in keyed-partitioning group-commit-resume describe-configs idempotent-produce headers-null-key-value \
      record-errors large-message consume-from-timestamp; do
    check "$v/$s" scenario "$v" "$s"
  done
  check "$v/kafka-topics" tools_topics "$v"
  check "$v/kafka-console-producer-consumer" tools_console "$v"
  check "$v/kafka-consumer-groups" tools_groups "$v"
  check "$v/kafka-producer-perf-test" tools_perf "$v"
  check "$v/kafka-configs" tools_configs "$v"
done
summary java
