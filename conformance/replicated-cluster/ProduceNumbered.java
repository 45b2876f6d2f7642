// The Java client's idempotent producer (kafka-clients, acks=all, enable.idempotence=true) writing numbered
// records for harness.py's two-leader-kills scenario.
// Usage: ProduceNumbered BOOTSTRAP TOPIC COUNT PARTITIONS RATE ACKFILE GATE (as produce_python.py).
// Record n has the value String(n) and goes to partition n % PARTITIONS; at most RATE records a second are
// handed to the client; record GATE only once the file ACKFILE.go exists. Each acknowledgement is a line
// `n partition offset` in ACKFILE, a delivery error `ERR n error`. Exits 0 when every record was acknowledged.
import java.io.FileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public class ProduceNumbered {
  public static void main(String[] args) throws IOException, InterruptedException {
    String bootstrap = args[0], topic = args[1], ackFile = args[5];
    int count = Integer.parseInt(args[2]), parts = Integer.parseInt(args[3]), gate = Integer.parseInt(args[6]);
    java.io.File go = new java.io.File(ackFile + ".go");
    double rate = Double.parseDouble(args[4]);
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    AtomicInteger acked = new AtomicInteger(), failed = new AtomicInteger();
    long t0 = System.currentTimeMillis(), pace0 = t0;
    try (PrintWriter out = new PrintWriter(new FileWriter(ackFile), true);
        KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int n = 0; n < count; n++) {
        if (n == gate) {
          while (!go.exists()) Thread.sleep(50);
          pace0 = System.currentTimeMillis() - (long) (n * 1000.0 / rate); // the same pace after the gate
        }
        if (n % 100 == 0) {
          long ahead = pace0 + (long) (n * 1000.0 / rate) - System.currentTimeMillis();
          if (ahead > 0) Thread.sleep(ahead);
        }
        final int num = n;
        producer.send(new ProducerRecord<>(topic, n % parts, null, String.valueOf(n)), (md, e) -> {
          synchronized (out) {
            if (e != null) {
              failed.incrementAndGet();
              out.println("ERR " + num + " " + e);
            } else {
              acked.incrementAndGet();
              out.println(num + " " + md.partition() + " " + md.offset());
            }
          }
        });
      }
      producer.flush();
    }
    System.out.printf("produced %d in %.1f s: acknowledged %d, failed %d%n", count, (System.currentTimeMillis() - t0) / 1000.0, acked.get(), failed.get());
    System.exit(acked.get() == count ? 0 : 1);
  }
}
