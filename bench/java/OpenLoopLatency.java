/*
 * End-to-end latency at a fixed rate, open loop, with the Java client (kafka-clients), for any broker.
 *
 * A producer sends `rate` records a second on a fixed schedule (record i is due at start + i / rate) and a
 * consumer in the same JVM (assign(), no group) reads them back. Each record's value starts with the time
 * it was due (System.nanoTime) and its sequence number; latency is measured from that due time to the poll
 * that returned it, so a broker that stalls is charged for the records that queue behind the stall
 * (no coordinated omission, unlike a closed-loop tool such as kafka-tools' EndToEndLatency, which sends the
 * next record only after the previous one came back). Records due in the first `warmupSec` are not counted.
 *
 * Usage: OpenLoopLatency bootstrap topic partitions rate durationSec warmupSec recordSize acks [prop=value ...]
 *   extra prop=value pairs go to both the producer and the consumer (e.g. enable.idempotence=false).
 * Prints one JSON line: sent, received, errors, achievedRate, p50Ms, p99Ms, p999Ms, maxMs. With the
 * environment variable OPEN_LOOP_TIMELINE set, also each second's worst latency on stderr.
 */
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class OpenLoopLatency {
    public static void main(String[] args) throws Exception {
        if (args.length < 8) {
            System.err.println("usage: OpenLoopLatency bootstrap topic partitions rate durationSec warmupSec recordSize acks [prop=value ...]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        double rate = Double.parseDouble(args[3]);
        double durationSec = Double.parseDouble(args[4]);
        double warmupSec = Double.parseDouble(args[5]);
        int recordSize = Math.max(16, Integer.parseInt(args[6]));
        String acks = args[7];
        Properties extra = new Properties();
        for (int i = 8; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq > 0) extra.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        final int total = (int) Math.round(rate * durationSec);
        final int warmup = (int) Math.round(rate * warmupSec);
        final long periodNanos = Math.round(1e9 / rate);
        final long[] latencyNanos = new long[total];
        Arrays.fill(latencyNanos, -1L);

        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        for (String k : extra.stringPropertyNames()) {
            if (ConsumerConfig.configNames().contains(k)) cp.put(k, extra.getProperty(k));
        }
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.ACKS_CONFIG, acks);
        pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        for (String k : extra.stringPropertyNames()) {
            if (ProducerConfig.configNames().contains(k)) pp.put(k, extra.getProperty(k));
        }

        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
        consumer.assign(tps);
        consumer.seekToEnd(tps);
        for (TopicPartition tp : tps) consumer.position(tp, Duration.ofSeconds(60));

        final AtomicLong received = new AtomicLong();
        final AtomicLong sendErrors = new AtomicLong();
        final AtomicLong deadline = new AtomicLong(Long.MAX_VALUE);
        Thread reader = new Thread(() -> {
            while (received.get() < total && System.nanoTime() < deadline.get()) {
                ConsumerRecords<byte[], byte[]> recs = consumer.poll(Duration.ofMillis(100));
                long now = System.nanoTime();
                for (ConsumerRecord<byte[], byte[]> r : recs) {
                    ByteBuffer v = ByteBuffer.wrap(r.value());
                    long due = v.getLong(0);
                    int seq = v.getInt(8);
                    if (seq >= 0 && seq < total && latencyNanos[seq] < 0) {
                        latencyNanos[seq] = now - due;
                        received.incrementAndGet();
                    }
                }
            }
        }, "reader");
        reader.start();

        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);
        // Warm the producer's metadata before the schedule starts.
        producer.partitionsFor(topic);
        byte[] value = new byte[recordSize];
        ByteBuffer vb = ByteBuffer.wrap(value);
        long start = System.nanoTime() + 50_000_000L;
        for (int i = 0; i < total; i++) {
            long due = start + i * periodNanos;
            long wait;
            while ((wait = due - System.nanoTime()) > 0) LockSupport.parkNanos(Math.min(wait, 1_000_000L));
            vb.putLong(0, due);
            vb.putInt(8, i);
            // send() copies the value into the batch before it returns, so the array can be reused.
            producer.send(new ProducerRecord<>(topic, i % partitions, null, value), (md, e) -> {
                if (e != null) sendErrors.incrementAndGet();
            });
        }
        long sendEnd = System.nanoTime();
        producer.flush();
        deadline.set(System.nanoTime() + 30_000_000_000L);
        reader.join();
        producer.close();
        consumer.close();

        long[] measured = new long[total];
        int n = 0;
        for (int i = warmup; i < total; i++) if (latencyNanos[i] >= 0) measured[n++] = latencyNanos[i];
        long[] sorted = Arrays.copyOf(measured, n);
        Arrays.sort(sorted);
        double achieved = total / ((sendEnd - start) / 1e9);
        System.out.printf(java.util.Locale.ROOT,
            "{\"sent\":%d,\"received\":%d,\"measured\":%d,\"errors\":%d,\"targetRate\":%.1f,\"achievedRate\":%.1f,\"p50Ms\":%.3f,\"p99Ms\":%.3f,\"p999Ms\":%.3f,\"maxMs\":%.3f}%n",
            total, received.get(), n, sendErrors.get(), rate, achieved,
            pct(sorted, 0.50), pct(sorted, 0.99), pct(sorted, 0.999), n == 0 ? -1.0 : sorted[n - 1] / 1e6);
        if (System.getenv("OPEN_LOOP_TIMELINE") != null) printTimeline(latencyNanos, rate);
        System.exit(received.get() == total && sendErrors.get() == 0 ? 0 : 1);
    }

    /**
     * With OPEN_LOOP_TIMELINE set: per second of the schedule (by due time, warm-up included), the worst
     * latency and how many records never came back, on stderr, to tell one stall from a steady tail.
     */
    private static void printTimeline(long[] latencyNanos, double rate) {
        int perSecond = (int) Math.max(1, Math.round(rate));
        StringBuilder sb = new StringBuilder("timeline (second: max ms / missing):");
        for (int from = 0; from < latencyNanos.length; from += perSecond) {
            long max = -1;
            int missing = 0;
            for (int i = from; i < Math.min(latencyNanos.length, from + perSecond); i++) {
                if (latencyNanos[i] < 0) missing++;
                else max = Math.max(max, latencyNanos[i]);
            }
            sb.append(String.format(java.util.Locale.ROOT, " %d: %.1f/%d", from / perSecond, max / 1e6, missing));
        }
        System.err.println(sb);
    }

    private static double pct(long[] sorted, double q) {
        if (sorted.length == 0) return -1.0;
        int rank = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
        return sorted[rank] / 1e6;
    }
}
