import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.Record;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.record.TimestampType;

/**
 * Writes one RecordBatch v2 per codec with the Java client's own MemoryRecords builder (kafka-clients 4.1.1),
 * or, given file names, reads batches written by Samsa and prints their records (`read a.bin b.bin ...`).
 *
 * Not run by the test suite (it needs a JDK and Maven). To regenerate the .bin files beside this one:
 *   a pom.xml depending on org.apache.kafka:kafka-clients:4.1.1, then
 *   mvn dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime
 *   javac -cp 'lib/*' -d out GenerateRecordBatchVectors.java
 *   java -cp 'out:lib/*' GenerateRecordBatchVectors <this directory>
 */
public class GenerateRecordBatchVectors {
  static byte[] big() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 4000; i++) sb.append("{\"user\":").append(i % 97).append(",\"event\":\"click\",\"n\":").append(i).append("}\n");
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("read")) {
      for (int i = 1; i < args.length; i++) {
        MemoryRecords records = MemoryRecords.readableRecords(ByteBuffer.wrap(Files.readAllBytes(Path.of(args[i]))));
        for (RecordBatch batch : records.batches()) {
          batch.ensureValid();
          StringBuilder out = new StringBuilder(args[i] + " codec=" + batch.compressionType() + " base=" + batch.baseOffset() + " count=" + batch.countOrNull());
          for (Record r : batch) {
            out.append(" | ").append(r.offset()).append(' ').append(r.timestamp()).append(' ')
              .append(r.hasKey() ? StandardCharsets.UTF_8.decode(r.key()).toString() : "null").append(' ')
              .append(r.hasValue() ? r.valueSize() : -1).append(" headers=").append(r.headers().length);
          }
          System.out.println(out);
        }
      }
      return;
    }
    Path dir = Path.of(args[0]);
    Compression[] codecs = {
      Compression.NONE, Compression.gzip().build(), Compression.snappy().build(), Compression.lz4().build(), Compression.zstd().build()
    };
    for (Compression c : codecs) {
      SimpleRecord[] records = {
        new SimpleRecord(1700000000000L, "k1".getBytes(StandardCharsets.UTF_8), "v1".getBytes(StandardCharsets.UTF_8),
          new Header[] { new RecordHeader("h", "x".getBytes(StandardCharsets.UTF_8)) }),
        new SimpleRecord(1700000000007L, (byte[]) null, (byte[]) null),
        new SimpleRecord(1700000000003L, "big".getBytes(StandardCharsets.UTF_8), big()),
      };
      MemoryRecords mr = MemoryRecords.withRecords(RecordBatch.MAGIC_VALUE_V2, 42L, c, TimestampType.CREATE_TIME, records);
      ByteBuffer buf = mr.buffer();
      byte[] bytes = new byte[buf.remaining()];
      buf.get(bytes);
      Files.write(dir.resolve("record-batch-v2-" + c.type().name + "-java-kafka-clients-4.1.1.bin"), bytes);
    }
  }
}
