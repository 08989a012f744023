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
     * Every write either stays inside one 4 KiB page of the file or carries exactly one line
     * (the one straddling the boundary), and always ends at a line end.
     */
    @Test
    void writesNeverCrossAPageBoundaryInsideALineUnlessAlone() {
        SplittableRandom random = new SplittableRandom(11);
        long fileSize = 0;
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
                boolean onePage = firstPage == lastPage;
                boolean oneLine = indexOf(buffer, (byte) '\n', start) == end - 1;
                assertThat(onePage || oneLine).as("write of %d bytes at %d", end - start, fileSize).isTrue();
                fileSize += end - start;
                buffer.position(end);
            }
        }
    }

    private static int indexOf(ByteBuffer buffer, byte b, int from) {
        for (int i = from; i < buffer.limit(); i++) {
            if (buffer.get(i) == b) {
                return i;
            }
        }
        return -1;
    }

    private static ByteBuffer ascii(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes.length);
        buffer.put(bytes).flip();
        return buffer;
    }
}
