#!/usr/bin/env bash
# PySpark 3.5 and 4.0 from PyPI in local mode, with the matching spark-sql-kafka-0-10 and spark-avro jars
# from Maven Central, against a real Samsa broker (a fresh one per Spark version, so the topic can be
# "meu-topico" as in the users' code). See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init pyspark
DIR="$(cd "$(dirname "$0")" && pwd)"
# The newest 3.5 and 4.0 releases whose spark-sql-kafka-0-10 and spark-avro jars Maven Central serves here
# (3.5.8/3.5.9 lack spark-sql-kafka-0-10; 4.0.1-4.0.5 lack spark-token-provider-kafka-0-10 or spark-avro).
VERSIONS=(${PYSPARK_VERSIONS:-3.5.7 4.0.0})
# PYSPARK_SCENARIOS picks a subset while developing (each check starts a Spark driver: 20-40 s)
SCENARIOS=(${PYSPARK_SCENARIOS:-batch-write-read structured-streaming avro-from_avro registry-avro-from_avro})
command -v java >/dev/null && command -v mvn >/dev/null || {
  echo "installing Java 17 and Maven (Debian packages)"
  (apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless maven) >"$CONF_CACHE/pyspark-install.log" 2>&1 \
    || install_failed pyspark "$CONF_CACHE/pyspark-install.log"
}

# pyspark_setup V: a venv with pyspark==V, avro and confluent-kafka with its Schema Registry Avro extras
# (fastavro, httpx, attrs, ...: the registry-avro-from_avro producer, as in ../confluent-kafka-python);
# spark-sql-kafka-0-10 and spark-avro V with their
# dependencies, less the jars pyspark already ships, in $CONF_CACHE/pyspark-V-jars.
pyspark_setup() {
  local v="$1" venv="$CONF_CACHE/pyspark-$1" jars="$CONF_CACHE/pyspark-$1-jars" scala=2.13 log="$CONF_CACHE/pyspark-install-$1.log"
  case "$v" in 3.*) scala=2.12 ;; esac
  if ! "$venv/bin/python" -c 'import pyspark, avro' 2>/dev/null; then
    echo "installing pyspark $v and avro into $venv"
    (python3 -m venv "$venv" && "$venv/bin/pip" install -q "pyspark==$v" avro) >"$log" 2>&1 || return 1
  fi
  if ! "$venv/bin/python" -c 'import confluent_kafka.schema_registry.avro, fastavro' 2>/dev/null; then
    echo "installing confluent-kafka[avro,schemaregistry] into $venv"
    "$venv/bin/pip" install -q "confluent-kafka[avro,schemaregistry]" >>"$log" 2>&1 || return 1
  fi
  if [ ! -f "$jars/.complete" ]; then
    echo "fetching spark-sql-kafka-0-10_$scala and spark-avro_$scala $v from Maven Central into $jars"
    rm -rf "$jars"; mkdir -p "$jars/pom"
    cat >"$jars/pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>samsa.conformance</groupId><artifactId>pyspark-$v</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-sql-kafka-0-10_$scala</artifactId><version>$v</version></dependency>
    <dependency><groupId>org.apache.spark</groupId><artifactId>spark-avro_$scala</artifactId><version>$v</version></dependency>
  </dependencies>
</project>
POM
    # Spark 4's parent pom lists a second repository (a Maven Central mirror on another host, which this
    # machine cannot reach): a mirror entry sends every request to Maven Central itself
    cat >"$jars/pom/settings.xml" <<SETTINGS
<settings><mirrors><mirror><id>central-only</id><mirrorOf>*</mirrorOf>
  <url>https://repo.maven.apache.org/maven2</url></mirror></mirrors></settings>
SETTINGS
    (cd "$jars/pom" && mvn -q -B -U -s settings.xml dependency:copy-dependencies -DoutputDirectory="$jars" -DincludeScope=runtime) >>"$log" 2>&1 || return 1
    # what pyspark ships (hadoop client, scala, snappy, lz4, ...) stays out: one copy on the classpath
    local shipped j name
    shipped="$("$venv/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
    for j in "$jars"/*.jar; do
      name="$(basename "$j" | sed -E 's/-[0-9][^-]*(-[A-Za-z0-9.]+)?\.jar$//')"
      compgen -G "$shipped/$name-[0-9]*.jar" >/dev/null && rm -f "$j"
    done
    touch "$jars/.complete"
  fi
}

for v in "${VERSIONS[@]}"; do
  t0=$SECONDS
  pyspark_setup "$v" || install_failed pyspark "$CONF_CACHE/pyspark-install-$v.log"
  echo "pyspark $v ready ($((SECONDS - t0)) s): $(cd "$CONF_CACHE/pyspark-$v-jars" && ls *.jar | tr '\n' ' ')"
done
trap samsa_cleanup EXIT
for v in "${VERSIONS[@]}"; do
  echo "--- pyspark $v"
  samsa_start || install_failed pyspark "$SAMSA_LOG"
  JARS="$(ls "$CONF_CACHE/pyspark-$v-jars"/*.jar | paste -sd, -)"
  for s in "${SCENARIOS[@]}"; do
    check "$v/$s" timeout 300 "$CONF_CACHE/pyspark-$v/bin/python" "$DIR/scenarios.py" "$BOOTSTRAP" "$s" "$JARS"
  done
  samsa_cleanup
done
summary pyspark
