"""confluent-kafka-python's Schema Registry serializers against Samsa's built-in registry.

Usage: registry.py BOOTSTRAP REGISTRY_URL NAME. Each scenario produces typed records through Samsa with
the stock serializer (auto-registering the schema), consumes them with a fresh consumer and deserializer
(whose registry client has an empty cache), and compares.
"""
import sys
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

BOOTSTRAP, REGISTRY = sys.argv[1], sys.argv[2]

USER_AVRO = """{"type": "record", "name": "User", "namespace": "com.example",
 "fields": [{"name": "id", "type": "int"}, {"name": "nome", "type": "string"}]}"""

USER_JSON = """{"$schema": "http://json-schema.org/draft-07/schema#", "title": "User", "type": "object",
 "properties": {"id": {"type": "integer"}, "nome": {"type": "string"}}, "required": ["id", "nome"],
 "additionalProperties": false}"""


def roundtrip(serializer, deserializer, values):
    topic = 'py-sr-' + uuid.uuid4().hex[:8]
    p = Producer({'bootstrap.servers': BOOTSTRAP})
    for v in values:
        p.produce(topic, value=serializer(v, SerializationContext(topic, MessageField.VALUE)))
    assert p.flush(30) == 0
    c = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': 'py-sr-' + uuid.uuid4().hex[:6], 'auto.offset.reset': 'earliest'})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    while len(out) < len(values):
        m = c.poll(10)
        assert m is not None, f'only {len(out)} of {len(values)} records read'
        assert m.error() is None, m.error()
        raw = m.value()
        assert raw[0] == 0, 'magic byte'
        out.append(deserializer(raw, SerializationContext(topic, MessageField.VALUE)))
    c.close()
    assert out == values, (out, values)
    return topic


def avro_roundtrip():
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    client = SchemaRegistryClient({'url': REGISTRY})
    ser = AvroSerializer(client, USER_AVRO)
    values = [{'id': i, 'nome': f'nome {i}'} for i in range(10)]
    topic = roundtrip(ser, AvroDeserializer(SchemaRegistryClient({'url': REGISTRY})), values)
    # The course's flow: the subject is listed and its latest version served as Confluent's registry does.
    subject = f'{topic}-value'
    assert subject in client.get_subjects()
    latest = client.get_latest_version(subject)
    assert latest.version == 1 and latest.schema.schema_type == 'AVRO', latest
    print('registered', subject, 'id', latest.schema_id)


def avro_evolution():
    from confluent_kafka.schema_registry.avro import AvroSerializer
    client = SchemaRegistryClient({'url': REGISTRY})
    subject = 'py-evolve-' + uuid.uuid4().hex[:6]
    v1 = client.register_schema(subject, Schema(USER_AVRO, 'AVRO'))
    with_default = USER_AVRO.replace('{"name": "nome", "type": "string"}]', '{"name": "nome", "type": "string"}, {"name": "email", "type": ["null", "string"], "default": null}]')
    assert client.test_compatibility(subject, Schema(with_default, 'AVRO'))
    v2 = client.register_schema(subject, Schema(with_default, 'AVRO'))
    assert v2 != v1
    no_default = USER_AVRO.replace('{"name": "nome", "type": "string"}]', '{"name": "nome", "type": "string"}, {"name": "age", "type": "int"}]')
    assert not client.test_compatibility(subject, Schema(no_default, 'AVRO'))
    try:
        client.register_schema(subject, Schema(no_default, 'AVRO'))
        raise AssertionError('an incompatible schema was registered')
    except SchemaRegistryError as e:
        assert e.http_status_code == 409 and e.error_code == 40901, (e.http_status_code, e.error_code)
    # Under NONE it is accepted.
    client.set_compatibility(subject, 'NONE')
    assert client.get_compatibility(subject) == 'NONE'
    client.register_schema(subject, Schema(no_default, 'AVRO'))
    assert client.get_versions(subject) == [1, 2, 3]
    AvroSerializer(client, with_default)  # the serializer accepts the evolved schema
    print('versions', client.get_versions(subject))


def json_roundtrip():
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
    ser = JSONSerializer(USER_JSON, SchemaRegistryClient({'url': REGISTRY}))
    values = [{'id': i, 'nome': f'nome {i}'} for i in range(10)]
    roundtrip(ser, JSONDeserializer(USER_JSON), values)


def user_proto_class():
    """The message class protoc would generate for com.example.User, built from its descriptor."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    fdp = descriptor_pb2.FileDescriptorProto(name='user.proto', package='com.example', syntax='proto3')
    m = fdp.message_type.add(name='User')
    m.field.add(name='id', number=1, type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32, label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    m.field.add(name='nome', number=2, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING, label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName('com.example.User'))


def protobuf_roundtrip():
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
    User = user_proto_class()
    client = SchemaRegistryClient({'url': REGISTRY})
    ser = ProtobufSerializer(User, client, {'use.deprecated.format': False})
    values = [User(id=i, nome=f'nome {i}') for i in range(10)]
    topic = roundtrip(ser, ProtobufDeserializer(User, {'use.deprecated.format': False}), values)
    latest = client.get_latest_version(f'{topic}-value')
    assert latest.schema.schema_type == 'PROTOBUF', latest
    assert 'message User' in latest.schema.schema_str, latest.schema.schema_str
    print(latest.schema.schema_str)


SCENARIOS = {
    'sr-protobuf-roundtrip': protobuf_roundtrip,
    'sr-avro-roundtrip': avro_roundtrip,
    'sr-avro-evolution': avro_evolution,
    'sr-json-roundtrip': json_roundtrip,
}

if __name__ == '__main__':
    SCENARIOS[sys.argv[3]]()
