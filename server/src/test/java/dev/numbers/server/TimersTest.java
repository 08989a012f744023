package dev.numbers.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The report's schedule: fixed, never drifting, and after a pause it skips the ticks it missed. */
class TimersTest {

    private static final long START = 1_000;
    private static final long INTERVAL = 100;

    @Test
    void aReportOnTimeOrSlowHasTheNextTickNext() {
        assertThat(Timers.nextTick(START, INTERVAL, 1_100)).as("on time").isEqualTo(1_200);
        assertThat(Timers.nextTick(START, INTERVAL, 1_130)).as("printing took 30").isEqualTo(1_200);
        assertThat(Timers.nextTick(START, INTERVAL, 1_199)).isEqualTo(1_200);
        assertThat(Timers.nextTick(START, INTERVAL, START)).as("the first").isEqualTo(1_100);
    }

    @Test
    void afterAPauseTheTicksItMissedAreSkipped() {
        assertThat(Timers.nextTick(START, INTERVAL, 4_550)).as("35 ticks missed: the next is the first after now").isEqualTo(4_600);
        assertThat(Timers.nextTick(START, INTERVAL, 4_600)).isEqualTo(4_700);
    }

    @Test
    void worksAcrossTheWrapOfNanoTime() {
        long start = Long.MAX_VALUE - 150;
        assertThat(Timers.nextTick(start, INTERVAL, start + 120)).isEqualTo(start + 200); // past Long.MAX_VALUE: wraps, as nanoTime does
    }
}
