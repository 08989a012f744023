package dev.numbers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NumberLogTest {

    private static final byte[] LF = {'\n'};

    @TempDir
    Path dir;

    @Test
    void createTruncatesAnExistingFile() throws IOException {
        Path path = dir.resolve("numbers.log");
        Files.writeString(path, "left over from the last run\n");
        try (NumberLog log = NumberLog.create(path, LF)) {
            assertThat(Files.size(path)).isZero();
        }
        assertThat(Files.readString(path)).isEmpty();
    }

    @Test
    void appendsWholeBuffersInOrder() throws IOException {
        Path path = dir.resolve("numbers.log");
        try (NumberLog log = NumberLog.create(path, LF)) {
            log.append(ascii("1\n22\n"));
            log.append(ascii("333\n"));
            assertThat(Files.readString(path)).isEqualTo("1\n22\n333\n");
        }
    }

    @Test
    void appendsManyPagesIntact() throws IOException {
        Path path = dir.resolve("numbers.log");
        StringBuilder expected = new StringBuilder();
        SplittableRandom random = new SplittableRandom(7);
        try (NumberLog log = NumberLog.create(path, LF)) {
            for (int batch = 0; batch < 200; batch++) {
                StringBuilder lines = new StringBuilder();
                int count = random.nextInt(1, 2000);
                for (int i = 0; i < count; i++) {
                    lines.append(random.nextInt(1_000_000_000)).append('\n');
                }
                log.append(ascii(lines.toString()));
                expected.append(lines);
            }
        }
        assertThat(Files.readString(path)).isEqualTo(expected.toString());
    }

    /**
     * Every write ends at a line end and crosses at most one 4 KiB page boundary of the file,
     * with fewer than {@link NumberLog#HEAD_BYTES} bytes before it; whole pages take one write.
     */
    @Test
    void writesCrossAtMostOnePageBoundaryAndOnlyWithALinesHead() {
        SplittableRandom random = new SplittableRandom(11);
        long fileSize = 0;
        long writes = 0;
        for (int batch = 0; batch < 2000; batch++) {
            StringBuilder lines = new StringBuilder();
            int count = random.nextInt(1, 1500);
            for (int i = 0; i < count; i++) {
                lines.append(random.nextInt(1_000_000_000 >> random.nextInt(30))).append('\n');
            }
            ByteBuffer buffer = ascii(lines.toString());
            while (buffer.hasRemaining()) {
                int start = buffer.position();
                int end = NumberLog.chunkEnd(buffer, fileSize, (byte) '\n');
                assertThat(end).isGreaterThan(start);
                assertThat(buffer.get(end - 1)).isEqualTo((byte) '\n');
                long firstPage = fileSize / NumberLog.PAGE_BYTES;
                long lastPage = (fileSize + (end - start) - 1) / NumberLog.PAGE_BYTES;
                assertThat(lastPage - firstPage).as("pages crossed by a write at %d", fileSize).isLessThanOrEqualTo(1);
                if (lastPage > firstPage) {
                    long head = (firstPage + 1) * NumberLog.PAGE_BYTES - fileSize;
                    assertThat(head).as("bytes before the boundary at %d", fileSize).isLessThan(NumberLog.HEAD_BYTES);
                }
                fileSize += end - start;
                buffer.position(end);
                writes++;
            }
        }
        assertThat(writes).as("about one write per page").isLessThan(fileSize / NumberLog.PAGE_BYTES + 2000 * 2);
    }

    private static ByteBuffer ascii(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes).flip();
        return buffer;
    }
}
