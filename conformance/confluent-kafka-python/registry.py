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


def user_proto_class(fields=(('id', 'INT32'), ('nome', 'STRING'))):
    """The message class protoc would generate for com.example.User (with `fields`, numbered from 1)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    fdp = descriptor_pb2.FileDescriptorProto(name='user.proto', package='com.example', syntax='proto3')
    m = fdp.message_type.add(name='User')
    for number, (name, kind) in enumerate(fields, start=1):
        m.field.add(name=name, number=number, type=getattr(descriptor_pb2.FieldDescriptorProto, 'TYPE_' + kind), label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName('com.example.User'))


def expect_refused(call):
    """The registry refuses an incompatible schema: HTTP 409, error_code 40901."""
    try:
        call()
    except SchemaRegistryError as e:
        assert e.http_status_code == 409 and e.error_code == 40901, (e.http_status_code, e.error_code)
        return
    raise AssertionError('an incompatible schema was registered')


def check_level(client, subject, level, v1, accepted, refused):
    """Under `level`: v1 registered, `refused` tested and refused with 409/40901, `accepted` registered."""
    client.set_compatibility(subject, level)
    assert client.get_compatibility(subject) == level
    client.register_schema(subject, v1)
    assert not client.test_compatibility(subject, refused), (level, 'refused')
    expect_refused(lambda: client.register_schema(subject, refused))
    assert client.test_compatibility(subject, accepted), (level, 'accepted')
    client.register_schema(subject, accepted)
    assert client.get_versions(subject) == [1, 2], client.get_versions(subject)


def json_evolution():
    """JSON Schema evolution per level, Confluent's content-model rules: an optional property may be added
    to a closed model backward (not forward), a property removed from it not backward; a description
    change is compatible both ways."""
    import json
    from confluent_kafka.schema_registry.json_schema import JSONSerializer
    from confluent_kafka.error import ValueSerializationError
    client = SchemaRegistryClient({'url': REGISTRY})
    user = json.loads(USER_JSON)
    with_email = json.loads(USER_JSON)
    with_email['properties']['email'] = {'type': 'string'}
    without_nome = json.loads(USER_JSON)
    del without_nome['properties']['nome']
    without_nome['required'] = ['id']
    described = json.loads(USER_JSON)
    described['description'] = 'a user'
    js = lambda o: Schema(json.dumps(o), 'JSON')
    tag = uuid.uuid4().hex[:6]
    check_level(client, f'py-json-back-{tag}', 'BACKWARD', js(user), js(with_email), js(without_nome))
    check_level(client, f'py-json-fwd-{tag}', 'FORWARD', js(user), js(described), js(with_email))
    check_level(client, f'py-json-full-{tag}', 'FULL', js(user), js(described), js(with_email))
    # NONE: what BACKWARD refused is accepted.
    none = f'py-json-none-{tag}'
    client.set_compatibility(none, 'NONE')
    client.register_schema(none, js(user))
    assert client.test_compatibility(none, js(without_nome))
    client.register_schema(none, js(without_nome))
    # The serializer registers an evolved schema under the topic's subject (BACKWARD, the default), and
    # cannot register an incompatible one.
    topic = 'py-sr-json-' + uuid.uuid4().hex[:8]
    ctx = SerializationContext(topic, MessageField.VALUE)
    JSONSerializer(USER_JSON, client)({'id': 1, 'nome': 'a'}, ctx)
    JSONSerializer(json.dumps(with_email), client)({'id': 2, 'nome': 'b', 'email': 'b@x'}, ctx)
    try:
        JSONSerializer(json.dumps(without_nome), client)({'id': 3}, ctx)
        raise AssertionError('an incompatible schema was registered by the serializer')
    except (SchemaRegistryError, ValueSerializationError) as e:
        print('refused:', type(e).__name__)
    assert client.get_versions(f'{topic}-value') == [1, 2]
    print('json evolution per level: ok')


def protobuf_evolution():
    """Protobuf evolution per level, Confluent's SchemaDiff: a field added or removed is compatible both
    ways, a field's scalar kind changed (int32 to string) in neither, a message added only backward."""
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from confluent_kafka.error import ValueSerializationError
    client = SchemaRegistryClient({'url': REGISTRY})
    head = 'syntax = "proto3";\npackage com.example;\n\n'
    user = Schema(head + 'message User {\n  int32 id = 1;\n  string nome = 2;\n}\n', 'PROTOBUF')
    with_email = Schema(head + 'message User {\n  int32 id = 1;\n  string nome = 2;\n  string email = 3;\n}\n', 'PROTOBUF')
    id_string = Schema(head + 'message User {\n  string id = 1;\n  string nome = 2;\n}\n', 'PROTOBUF')
    with_extra = Schema(head + 'message User {\n  int32 id = 1;\n  string nome = 2;\n}\n\nmessage Extra {\n  string note = 1;\n}\n', 'PROTOBUF')
    tag = uuid.uuid4().hex[:6]
    check_level(client, f'py-proto-back-{tag}', 'BACKWARD', user, with_email, id_string)
    check_level(client, f'py-proto-fwd-{tag}', 'FORWARD', user, with_email, with_extra)
    check_level(client, f'py-proto-full-{tag}', 'FULL', user, with_email, with_extra)
    # The serializer (which registers the generated class's FileDescriptorProto) evolves the topic's subject
    # with a field added, and cannot register int32 id changed to string.
    topic = 'py-sr-proto-' + uuid.uuid4().hex[:8]
    ctx = SerializationContext(topic, MessageField.VALUE)
    conf = {'use.deprecated.format': False}
    User = user_proto_class()
    ProtobufSerializer(User, client, conf)(User(id=1, nome='a'), ctx)
    User2 = user_proto_class((('id', 'INT32'), ('nome', 'STRING'), ('email', 'STRING')))
    ProtobufSerializer(User2, client, conf)(User2(id=2, nome='b', email='b@x'), ctx)
    Bad = user_proto_class((('id', 'STRING'), ('nome', 'STRING')))
    try:
        ProtobufSerializer(Bad, client, conf)(Bad(id='3', nome='c'), ctx)
        raise AssertionError('an incompatible schema was registered by the serializer')
    except (SchemaRegistryError, ValueSerializationError) as e:
        print('refused:', type(e).__name__)
    assert client.get_versions(f'{topic}-value') == [1, 2]
    print('protobuf evolution per level: ok')


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
    'sr-json-evolution': json_evolution,
    'sr-protobuf-evolution': protobuf_evolution,
}

if __name__ == '__main__':
    SCENARIOS[sys.argv[3]]()
