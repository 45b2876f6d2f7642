import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * kafka-clients scenarios against a running Samsa broker, with the client's default settings unless a
 * scenario is about a setting (so producers are idempotent with acks=all, as Java users get them).
 * Usage: java -cp 'lib/*:classes' Scenarios BOOTSTRAP NAME
 */
public class Scenarios {
    static String bootstrap;

    static void check(boolean cond, Object... what) {
        if (!cond) throw new AssertionError("assertion failed: " + Arrays.deepToString(what));
    }

    static String uid() { return UUID.randomUUID().toString().substring(0, 6); }
    static byte[] b(String s) { return s == null ? null : s.getBytes(StandardCharsets.UTF_8); }
    static String s(byte[] b) { return b == null ? null : new String(b, StandardCharsets.UTF_8); }

    static Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("client.id", "java-conformance");
        return p;
    }

    static Admin admin() { return Admin.create(common()); }

    static KafkaProducer<byte[], byte[]> producer(Object... kv) {
        Properties p = common();
        for (int i = 0; i < kv.length; i += 2) p.put((String) kv[i], kv[i + 1]);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static KafkaConsumer<byte[], byte[]> consumer(Object... kv) {
        Properties p = common();
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        for (int i = 0; i < kv.length; i += 2) p.put((String) kv[i], kv[i + 1]);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    static void sendAll(KafkaProducer<byte[], byte[]> p, List<ProducerRecord<byte[], byte[]>> records) throws Exception {
        List<Future<RecordMetadata>> fs = new ArrayList<>();
        for (ProducerRecord<byte[], byte[]> r : records) fs.add(p.send(r));
        p.flush();
        for (Future<RecordMetadata> f : fs) f.get();
    }

    static List<ConsumerRecord<byte[], byte[]>> readBack(String topic, int partition, int count) {
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            TopicPartition tp = new TopicPartition(topic, partition);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30000;
            while (out.size() < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) out.add(r);
            }
            check(out.size() == count, "read", out.size(), "of", count);
            return out;
        }
    }

    static void metadata() throws Exception {
        try (Admin a = admin()) {
            DescribeClusterResult cluster = a.describeCluster();
            Collection<Node> nodes = cluster.nodes().get();
            check(nodes.size() == 1, nodes);
            Node n = nodes.iterator().next();
            check(n.id() == 1 && (n.host() + ":" + n.port()).equals(bootstrap), n);
            check(cluster.controller().get().id() == 1, cluster.controller().get());
            check(cluster.clusterId().get() != null);
        }
        String topic = "java-meta-" + uid();
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            check(p.partitionsFor(topic).size() == 1, p.partitionsFor(topic));   // auto-created by Metadata
        }
    }

    static void createDescribeDelete() throws Exception {
        String topic = "java-admin-" + uid();
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 3, (short) 1).configs(Map.of("retention.ms", "3600000")))).all().get();
            try {
                a.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
                check(false, "second create succeeded");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof TopicExistsException, e.getCause());
            }
            TopicDescription d = a.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            check(d.partitions().size() == 3, d);
            check(d.partitions().get(0).leader().id() == 1, d);
            check(a.listTopics().names().get().contains(topic));
            // Optional.empty(): the broker's default replication factor
            String t2 = "java-admin-defaults-" + uid();
            a.createTopics(List.of(new NewTopic(t2, Optional.empty(), Optional.empty()))).all().get();
            a.deleteTopics(List.of(topic, t2)).all().get();
            long deadline = System.currentTimeMillis() + 10000;
            while (a.listTopics().names().get().contains(topic)) {
                check(System.currentTimeMillis() < deadline, "topic still listed after delete");
                Thread.sleep(200);
            }
        }
    }

    static void compression(String codec) throws Exception {
        String topic = "java-" + codec + "-" + uid();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 5000; i++) records.add(new ProducerRecord<>(topic, 0, b("key-" + i), b("value " + i + " " + "payload-".repeat(10))));
        try (KafkaProducer<byte[], byte[]> p = producer("compression.type", codec, "linger.ms", 20)) {
            sendAll(p, records);
        }
        List<ConsumerRecord<byte[], byte[]>> got = readBack(topic, 0, 5000);
        for (int i = 0; i < 5000; i++) {
            check(Arrays.equals(got.get(i).key(), records.get(i).key()) && Arrays.equals(got.get(i).value(), records.get(i).value()), "record", i);
        }
        // the batches on the broker's disk carry the codec (printed for run.sh, which checks them)
        System.out.println("TOPIC " + topic);
    }

    static void keyed() throws Exception {
        String topic = "java-keyed-" + uid();
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        }
        Map<String, Set<Integer>> placed = new HashMap<>();
        try (KafkaProducer<byte[], byte[]> p = producer("linger.ms", 5)) {
            List<Future<RecordMetadata>> fs = new ArrayList<>();
            for (int i = 0; i < 400; i++) fs.add(p.send(new ProducerRecord<>(topic, b("k" + (i % 20)), b(String.valueOf(i)))));
            for (int i = 0; i < 400; i++) placed.computeIfAbsent("k" + (i % 20), k -> new HashSet<>()).add(fs.get(i).get().partition());
        }
        for (Map.Entry<String, Set<Integer>> e : placed.entrySet()) check(e.getValue().size() == 1, e);
        Set<Integer> used = new HashSet<>();
        placed.values().forEach(used::addAll);
        check(used.size() > 1, "all keys on one partition");
        for (int part = 0; part < 4; part++) {
            final int pp = part;
            Set<String> want = new TreeSet<>();
            placed.forEach((k, v) -> { if (v.contains(pp)) want.add(k); });
            Set<String> got = new TreeSet<>();
            for (ConsumerRecord<byte[], byte[]> r : readBack(topic, part, 20 * want.size())) got.add(s(r.key()));
            check(got.equals(want), part, got, want);
        }
    }

    static List<String> consumeGroup(String topic, String group, int n, long[] committed) {
        try (KafkaConsumer<byte[], byte[]> c = consumer("group.id", group)) {
            c.subscribe(List.of(topic));
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30000;
            while (out.size() < n && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) out.add(s(r.value()));
            }
            c.commitSync();
            TopicPartition tp = new TopicPartition(topic, 0);
            OffsetAndMetadata om = c.committed(Set.of(tp)).get(tp);
            committed[0] = om == null ? -1 : om.offset();
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(1000))) out.add(s(r.value()));
            return out;
        }
    }

    static void groupCommitResume() throws Exception {
        String topic = "java-group-" + uid(), group = "java-group-" + uid();
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            List<ProducerRecord<byte[], byte[]>> rs = new ArrayList<>();
            for (int i = 0; i < 100; i++) rs.add(new ProducerRecord<>(topic, b("a" + i)));
            sendAll(p, rs);
            long[] committed = new long[1];
            List<String> got = consumeGroup(topic, group, 100, committed);
            List<String> want = new ArrayList<>();
            for (int i = 0; i < 100; i++) want.add("a" + i);
            check(got.equals(want), "first run", got.size(), got.subList(0, Math.min(3, got.size())));
            check(committed[0] == 100, "committed", committed[0]);
            rs.clear();
            for (int i = 0; i < 50; i++) rs.add(new ProducerRecord<>(topic, b("b" + i)));
            sendAll(p, rs);
            got = consumeGroup(topic, group, 50, committed);
            want.clear();
            for (int i = 0; i < 50; i++) want.add("b" + i);
            check(got.equals(want), "second run", got.size(), got.subList(0, Math.min(3, got.size())));
            check(committed[0] == 150, "committed", committed[0]);
        }
        try (Admin a = admin()) {
            Map<TopicPartition, OffsetAndMetadata> offsets = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            check(offsets.get(new TopicPartition(topic, 0)).offset() == 150, offsets);
            ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
            check(d.members().isEmpty(), d);
        }
    }

    static void describeConfigs() throws Exception {
        String topic = "java-configs-" + uid();
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("retention.ms", "7200000", "cleanup.policy", "compact")))).all().get();
            ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config c = a.describeConfigs(List.of(r)).all().get().get(r);
            check("7200000".equals(c.get("retention.ms").value()), c.get("retention.ms"));
            check(c.get("retention.ms").source() == ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("retention.ms"));
            check("compact".equals(c.get("cleanup.policy").value()), c.get("cleanup.policy"));
            check(c.get("max.message.bytes") != null && c.get("max.message.bytes").isDefault(), c.get("max.message.bytes"));
            // change one with IncrementalAlterConfigs, read it back
            a.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "1000000"), AlterConfigOp.OpType.SET)))).all().get();
            c = a.describeConfigs(List.of(r)).all().get().get(r);
            check("1000000".equals(c.get("retention.ms").value()), c.get("retention.ms"));
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
            Config bc = a.describeConfigs(List.of(broker)).all().get().get(broker);
            check(bc.get("num.partitions") != null || bc.get("log.retention.ms") != null, bc);
        }
    }

    static void idempotent() throws Exception {
        String topic = "java-idem-" + uid();
        List<ProducerRecord<byte[], byte[]>> rs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) rs.add(new ProducerRecord<>(topic, 0, null, b("v" + i)));
        try (KafkaProducer<byte[], byte[]> p = producer("enable.idempotence", "true", "acks", "all", "linger.ms", 5,
                "max.in.flight.requests.per.connection", 5, "batch.size", 4096)) {
            sendAll(p, rs);
        }
        List<ConsumerRecord<byte[], byte[]>> got = readBack(topic, 0, 2000);
        for (int i = 0; i < 2000; i++) check(("v" + i).equals(s(got.get(i).value())), "record", i, s(got.get(i).value()));
    }

    static Throwable failureOf(Future<RecordMetadata> f) {
        try {
            f.get();
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    /** KIP-467: a keyless record in a batch for a compacted topic fails with its own message, the rest of the batch as its companions. */
    static void recordErrors() throws Exception {
        String topic = "java-record-errors-" + uid();
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("cleanup.policy", "compact")))).all().get();
        }
        try (KafkaProducer<byte[], byte[]> p = producer("linger.ms", 60000)) {
            Future<RecordMetadata> first = p.send(new ProducerRecord<>(topic, 0, b("k1"), b("v1")));
            Future<RecordMetadata> keyless = p.send(new ProducerRecord<>(topic, 0, null, b("no key")));
            Future<RecordMetadata> last = p.send(new ProducerRecord<>(topic, 0, b("k3"), b("v3")));
            p.flush();
            Throwable e = failureOf(keyless);
            check(e instanceof InvalidRecordException && e.getMessage().contains("Compacted topic cannot accept message without key in topic partition " + topic + "-0"), e);
            for (Future<RecordMetadata> f : List.of(first, last)) {
                Throwable o = failureOf(f);
                check(o != null && o.getMessage().contains("part of a batch which had one more more invalid records"), o);
            }
        }
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            sendAll(p, List.of(new ProducerRecord<>(topic, 0, b("k"), b("v"))));
        }
        List<ConsumerRecord<byte[], byte[]>> got = readBack(topic, 0, 1);
        check(got.get(0).offset() == 0 && "v".equals(s(got.get(0).value())), got.get(0));
    }

    static void headersNulls() throws Exception {
        String topic = "java-headers-" + uid();
        List<Header> h = List.of(new RecordHeader("h1", b("one")), new RecordHeader("h2", new byte[0]), new RecordHeader("h1", b("again")), new RecordHeader("n", null));
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            sendAll(p, List.of(
                new ProducerRecord<>(topic, 0, b("k1"), b("v1"), h),
                new ProducerRecord<>(topic, 0, null, b("null key")),
                new ProducerRecord<>(topic, 0, b("tombstone"), null),
                new ProducerRecord<>(topic, 0, null, null)));
        }
        List<ConsumerRecord<byte[], byte[]>> got = readBack(topic, 0, 4);
        String kv = "";
        for (ConsumerRecord<byte[], byte[]> r : got) kv += s(r.key()) + "=" + s(r.value()) + ";";
        check(kv.equals("k1=v1;null=null key;tombstone=null;null=null;"), kv);
        List<String> hs = new ArrayList<>();
        for (Header x : got.get(0).headers()) hs.add(x.key() + ":" + s(x.value()));
        check(hs.equals(List.of("h1:one", "h2:", "h1:again", "n:null")), hs);
        check(!got.get(1).headers().iterator().hasNext(), "headers on record 1");
    }

    static void large() throws Exception {
        String topic = "java-large-" + uid();
        byte[] big = new byte[1_047_800];
        new Random(1).nextBytes(big);
        try (KafkaProducer<byte[], byte[]> p = producer("max.request.size", 2_000_000)) {
            sendAll(p, List.of(new ProducerRecord<>(topic, 0, b("big"), big)));
            try {
                p.send(new ProducerRecord<>(topic, 0, null, new byte[1_100_000])).get();
                check(false, "a 1,100,000-byte record was accepted");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof RecordTooLargeException, e.getCause());
            }
        }
        check(Arrays.equals(readBack(topic, 0, 1).get(0).value(), big), "value differs");
    }

    static void fromTimestamp() throws Exception {
        String topic = "java-ts-" + uid();
        long base = System.currentTimeMillis() - 60000;
        List<ProducerRecord<byte[], byte[]>> rs = new ArrayList<>();
        for (int i = 0; i < 10; i++) rs.add(new ProducerRecord<>(topic, 0, base + i * 1000L, null, b("m" + i)));
        try (KafkaProducer<byte[], byte[]> p = producer()) {
            sendAll(p, rs);
        }
        try (KafkaConsumer<byte[], byte[]> c = consumer()) {
            TopicPartition tp = new TopicPartition(topic, 0);
            OffsetAndTimestamp ot = c.offsetsForTimes(Map.of(tp, base + 4500)).get(tp);
            check(ot != null && ot.offset() == 5 && ot.timestamp() == base + 5000, ot);
            check(c.offsetsForTimes(Map.of(tp, base + 20000)).get(tp) == null, "past the end");
            c.assign(List.of(tp));
            c.seek(tp, ot.offset());
            List<String> out = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 20000;
            while (out.size() < 5 && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) out.add(s(r.value()) + "@" + (r.timestamp() - base));
            }
            check(out.equals(List.of("m5@5000", "m6@6000", "m7@7000", "m8@8000", "m9@9000")), out);
        }
    }

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        switch (args[1]) {
            case "metadata": metadata(); break;
            case "create-describe-delete-topic": createDescribeDelete(); break;
            case "compression-none": compression("none"); break;
            case "compression-gzip": compression("gzip"); break;
            case "compression-snappy": compression("snappy"); break;
            case "compression-lz4": compression("lz4"); break;
            case "compression-zstd": compression("zstd"); break;
            case "keyed-partitioning": keyed(); break;
            case "group-commit-resume": groupCommitResume(); break;
            case "describe-configs": describeConfigs(); break;
            case "idempotent-produce": idempotent(); break;
            case "headers-null-key-value": headersNulls(); break;
            case "record-errors": recordErrors(); break;
            case "large-message": large(); break;
            case "consume-from-timestamp": fromTimestamp(); break;
            default: throw new IllegalArgumentException("unknown scenario " + args[1]);
        }
        System.exit(0);   // don't wait for client threads
    }
}
