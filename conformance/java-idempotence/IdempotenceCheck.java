// The Java client's default idempotent producer against Samsa, with the broker restarted under it.
//
//   java IdempotenceCheck produce BOOTSTRAP TOPIC PARTITIONS N PROGRESS_FILE RECORDS_PER_SECOND
//     creates TOPIC, then sends records "0".."N-1" (key = value) with enable.idempotence=true, acks=all and
//     unlimited retries, paced, writing the number of acknowledged records to PROGRESS_FILE as it goes.
//     Exits 0 when every record was acknowledged without error.
//   java IdempotenceCheck verify BOOTSTRAP TOPIC N
//     reads every partition from the start (assign + seek, no group) to its end offset and checks that each
//     number appears exactly once and that each partition holds its numbers in increasing order (the
//     idempotent producer keeps order per partition). Exits 0 when there is no duplicate, gap or reordering.
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class IdempotenceCheck {
  public static void main(String[] args) throws Exception {
    if (args.length >= 1 && args[0].equals("produce") && args.length == 7) {
      System.exit(produce(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), Path.of(args[5]), Integer.parseInt(args[6])));
    } else if (args.length >= 1 && args[0].equals("verify") && args.length == 4) {
      System.exit(verify(args[1], args[2], Integer.parseInt(args[3])));
    }
    System.err.println("usage: produce BOOTSTRAP TOPIC PARTITIONS N PROGRESS_FILE RATE | verify BOOTSTRAP TOPIC N");
    System.exit(2);
  }

  static int produce(String bootstrap, String topic, int partitions, int n, Path progress, int rate) throws Exception {
    Properties a = new Properties();
    a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (Admin admin = Admin.create(a)) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) throw e;
    }

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.RETRIES_CONFIG, Integer.toString(Integer.MAX_VALUE));
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "2");
    // Small batches: many produce requests in flight when the broker goes away.
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "512");
    p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

    AtomicLong acked = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicReference<Exception> firstError = new AtomicReference<>();
    long start = System.nanoTime();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < n; i++) {
        String v = Integer.toString(i);
        producer.send(new ProducerRecord<>(topic, v, v), (meta, err) -> {
          if (err != null) {
            failed.incrementAndGet();
            firstError.compareAndSet(null, err);
          } else {
            acked.incrementAndGet();
          }
        });
        if (i % 100 == 99) {
          Files.writeString(progress, acked.get() + "\n", StandardCharsets.UTF_8);
          long due = start + (long) ((i + 1) * 1e9 / rate);
          long wait = due - System.nanoTime();
          if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
      }
      producer.flush();
    }
    Files.writeString(progress, acked.get() + "\n", StandardCharsets.UTF_8);
    System.out.printf("produced %d records: %d acknowledged, %d failed in %.1fs%n", n, acked.get(), failed.get(), (System.nanoTime() - start) / 1e9);
    if (firstError.get() != null) System.out.println("first error: " + firstError.get());
    return acked.get() == n && failed.get() == 0 ? 0 : 1;
  }

  static int verify(String bootstrap, String topic, int n) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    int[] seen = new int[n];
    int duplicates = 0, reordered = 0, foreign = 0, total = 0;
    List<String> examples = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) tps.add(new TopicPartition(topic, info.partition()));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      Map<TopicPartition, Long> end = consumer.endOffsets(tps, Duration.ofSeconds(30));
      Map<TopicPartition, Integer> last = new HashMap<>();
      long deadline = System.currentTimeMillis() + 60_000;
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.currentTimeMillis() > deadline) {
          System.out.println("timed out reading: positions " + tps.stream().map(tp -> tp + "=" + consumer.position(tp) + "/" + end.get(tp)).toList());
          return 1;
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
          total++;
          int v;
          try {
            v = Integer.parseInt(r.value());
          } catch (NumberFormatException e) {
            foreign++;
            continue;
          }
          if (v < 0 || v >= n) {
            foreign++;
            continue;
          }
          if (++seen[v] > 1) {
            duplicates++;
            if (examples.size() < 5) examples.add("duplicate " + v + " at " + r.partition() + "/" + r.offset());
          }
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          Integer prev = last.put(tp, v);
          if (prev != null && prev >= v) {
            reordered++;
            if (examples.size() < 5) examples.add(v + " after " + prev + " at " + r.partition() + "/" + r.offset());
          }
        }
      }
    }
    int missing = 0;
    for (int i = 0; i < n; i++) {
      if (seen[i] == 0) {
        missing++;
        if (examples.size() < 10) examples.add("missing " + i);
      }
    }
    System.out.printf("read %d records: %d missing, %d duplicates, %d out of order, %d foreign%n", total, missing, duplicates, reordered, foreign);
    for (String e : examples) System.out.println("  " + e);
    return missing == 0 && duplicates == 0 && reordered == 0 && foreign == 0 && total == n ? 0 : 1;
  }
}
