"""PySpark (local mode) against a running Samsa broker, written the way PySpark users write it.
Usage: scenarios.py BOOTSTRAP NAME JARS   (JARS: comma-separated spark-sql-kafka / spark-avro jars)
NAME may list several scenarios, comma-separated, run in order in one Spark session (../replicated-cluster
runs the seed examples so, one driver start instead of two)."""
import io
import sys
import time

from pyspark.sql import SparkSession

BOOTSTRAP, NAME, JARS = sys.argv[1], sys.argv[2], sys.argv[3]

spark = (SparkSession.builder
         .master('local[2]')
         .appName(f'samsa-conformance-{NAME}')
         .config('spark.jars', JARS)
         .config('spark.ui.enabled', 'false')
         .config('spark.sql.shuffle.partitions', '2')
         .config('spark.driver.memory', '1g')
         .getOrCreate())
spark.sparkContext.setLogLevel('WARN')
print('spark', spark.version)


def batch_write_read():
    dados = [("1", "mensagem 1"), ("2", "mensagem 2")]
    df = spark.createDataFrame(dados, ["key", "value"])
    (df.selectExpr("CAST(key AS STRING)", "CAST(value AS STRING)")
       .write.format("kafka")
       .option("kafka.bootstrap.servers", BOOTSTRAP)
       .option("topic", "meu-topico")
       .save())
    lido = (spark.read.format("kafka")
            .option("kafka.bootstrap.servers", BOOTSTRAP)
            .option("subscribe", "meu-topico")
            .option("startingOffsets", "earliest")
            .option("endingOffsets", "latest")
            .load()
            .selectExpr("CAST(key AS STRING)", "CAST(value AS STRING)", "topic", "partition", "offset"))
    rows = sorted((r.key, r.value) for r in lido.collect())
    lido.show(truncate=False)
    assert rows == dados, rows


def streaming():
    # two records first, the stream starts, two more arrive while it runs: every one reaches the sink
    primeiros = [("1", "mensagem 1"), ("2", "mensagem 2")]
    depois = [("3", "mensagem 3"), ("4", "mensagem 4")]

    def escreve(dados):
        (spark.createDataFrame(dados, ["key", "value"])
         .selectExpr("CAST(key AS STRING)", "CAST(value AS STRING)")
         .write.format("kafka").option("kafka.bootstrap.servers", BOOTSTRAP).option("topic", "meu-topico-stream").save())

    escreve(primeiros)
    stream = (spark.readStream.format("kafka")
              .option("kafka.bootstrap.servers", BOOTSTRAP)
              .option("subscribe", "meu-topico-stream")
              .option("startingOffsets", "earliest")
              .load()
              .selectExpr("CAST(key AS STRING)", "CAST(value AS STRING)"))
    query = (stream.writeStream.format("memory").queryName("mensagens")
             .outputMode("append").trigger(processingTime="500 milliseconds").start())
    try:
        want = sorted(primeiros + depois)
        deadline = time.time() + 60
        wrote_more = False
        got = []
        while time.time() < deadline:
            if query.exception():
                raise query.exception()
            got = sorted((r.key, r.value) for r in spark.sql("SELECT key, value FROM mensagens").collect())
            if not wrote_more and got == sorted(primeiros):
                escreve(depois)
                wrote_more = True
            if got == want:
                break
            time.sleep(0.5)
        print('sink:', got)
        assert got == want, (got, query.lastProgress)
    finally:
        query.stop()


SCHEMA = """{"type": "record", "name": "User", "fields": [
  {"name": "id", "type": "string"}, {"name": "nome", "type": "string"}]}"""


def avro():
    import avro.io
    import avro.schema
    from pyspark.sql.avro.functions import from_avro
    from pyspark.sql.functions import col

    schema = avro.schema.parse(SCHEMA)
    usuarios = [{"id": str(i), "nome": nome} for i, nome in enumerate(["Ana", "João", "Maria", "Zé"], 1)]
    linhas = []
    for u in usuarios:
        buf = io.BytesIO()
        avro.io.DatumWriter(schema).write(u, avro.io.BinaryEncoder(buf))
        linhas.append((u["id"], bytearray(buf.getvalue())))
    (spark.createDataFrame(linhas, "key STRING, value BINARY")
     .write.format("kafka").option("kafka.bootstrap.servers", BOOTSTRAP).option("topic", "usuarios").save())
    lido = (spark.read.format("kafka")
            .option("kafka.bootstrap.servers", BOOTSTRAP)
            .option("subscribe", "usuarios")
            .option("startingOffsets", "earliest")
            .load()
            .select(col("key").cast("string").alias("key"), from_avro(col("value"), SCHEMA).alias("user"))
            .select("key", "user.id", "user.nome"))
    lido.show(truncate=False)
    rows = sorted((r.key, r.id, r.nome) for r in lido.collect())
    assert rows == sorted((u["id"], u["id"], u["nome"]) for u in usuarios), rows


REGISTRY_USER = """{"type": "record", "name": "User", "fields": [
  {"name": "id", "type": "int"}, {"name": "nome", "type": "string"}]}"""


def registry_avro():
    # The course's flow: confluent-kafka-python's AvroSerializer registers User under <topic>-value in
    # Samsa's built-in registry and writes Confluent's wire format (magic 0, 4-byte schema id, Avro body);
    # Spark drops those 5 bytes and decodes with from_avro and the schema text the registry serves.
    import json
    import os
    import urllib.request

    from confluent_kafka import Producer
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
    from pyspark.sql.avro.functions import from_avro
    from pyspark.sql.functions import col, expr

    registry = os.environ['REGISTRY_URL']
    topic = 'usuarios-registry'
    usuarios = [{"id": i, "nome": nome} for i, nome in enumerate(["Ana", "João", "Maria", "Zé"], 1)]
    serializer = AvroSerializer(SchemaRegistryClient({'url': registry}), REGISTRY_USER)
    producer = Producer({'bootstrap.servers': BOOTSTRAP})
    for u in usuarios:
        producer.produce(topic, key=str(u["id"]), value=serializer(u, SerializationContext(topic, MessageField.VALUE)))
    assert producer.flush(30) == 0, 'records left unsent'

    with urllib.request.urlopen(f'{registry}/subjects/{topic}-value/versions/latest', timeout=30) as r:
        latest = json.load(r)
    print('registry:', latest['subject'], 'version', latest['version'], 'id', latest['id'], latest['schema'])
    lido = (spark.read.format("kafka")
            .option("kafka.bootstrap.servers", BOOTSTRAP)
            .option("subscribe", topic)
            .option("startingOffsets", "earliest")
            .option("endingOffsets", "latest")
            .load()
            .select(col("key").cast("string").alias("key"),
                    expr("substring(value, 1, 1)").alias("magic"),
                    expr("substring(value, 2, 4)").alias("schema_id"),
                    expr("substring(value, 6, length(value)-5)").alias("avro"))
            .select("key", "magic", "schema_id", from_avro(col("avro"), latest['schema']).alias("user"))
            .select("key", "magic", "schema_id", "user.id", "user.nome"))
    lido.show(truncate=False)
    got = lido.collect()
    # every value carries the wire-format header naming the id the registry gave the subject's latest version
    header = {(bytes(r.magic), bytes(r.schema_id)) for r in got}
    assert header == {(b'\x00', latest['id'].to_bytes(4, 'big'))}, header
    rows = sorted((r.key, r.id, r.nome) for r in got)
    assert rows == sorted((str(u["id"]), u["id"], u["nome"]) for u in usuarios), rows


try:
    for name in NAME.split(','):
        print('---', name)
        {'batch-write-read': batch_write_read, 'structured-streaming': streaming, 'avro-from_avro': avro,
         'registry-avro-from_avro': registry_avro}[name]()
finally:
    spark.stop()
