package dev.numbers.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a duration option: a number with an optional unit, {@code ms}, {@code s} (the default),
 * {@code m} or {@code h} ({@code 250ms}, {@code 1.5s}, {@code 10}); an ISO-8601 duration
 * ({@code PT10S}); or {@code off}, which is zero, for an option that can be turned off.
 * {@link NeverOff} is the same for an option that cannot. Each option checks its own range afterwards.
 */
public class DurationConverter implements ITypeConverter<Duration> {

    private static final Pattern NUMBER_AND_UNIT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");
    private static final String EXAMPLES = "10s, 250ms, 1.5, 2m";

    private final boolean offAllowed;

    /** For an option that {@code off} turns off. */
    public DurationConverter() {
        this(true);
    }

    private DurationConverter(boolean offAllowed) {
        this.offAllowed = offAllowed;
    }

    /** For an option that always needs a duration: {@code off} is refused by name. */
    public static final class NeverOff extends DurationConverter {
        public NeverOff() {
            super(false);
        }
    }

    @Override
    public Duration convert(String value) {
        String text = value.trim().toLowerCase(Locale.ROOT);
        if (text.equals("off") && !offAllowed) {
            throw new TypeConversionException("it cannot be off; give a duration (examples: " + EXAMPLES + ")");
        }
        Duration duration;
        Matcher matcher = NUMBER_AND_UNIT.matcher(text);
        if (text.equals("off")) {
            duration = Duration.ZERO;
        } else if (matcher.matches()) {
            double nanosPerUnit = switch (matcher.group(2) == null ? "s" : matcher.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            double nanos = Double.parseDouble(matcher.group(1)) * nanosPerUnit;
            duration = nanos > Long.MAX_VALUE ? null : Duration.ofNanos(Math.round(nanos));
        } else {
            duration = iso(value);
            if (duration.toSeconds() > Long.MAX_VALUE / 1_000_000_000L) {
                duration = null; // the timers count in nanoseconds: about 292 years at most
            }
        }
        if (duration == null) {
            throw new TypeConversionException("'" + value + "' is too long a duration");
        }
        return duration;
    }

    private Duration iso(String value) {
        try {
            Duration duration = Duration.parse(value.trim().toUpperCase(Locale.ROOT));
            if (!duration.isNegative()) {
                return duration;
            }
        } catch (DateTimeParseException notIso) {
            // Not ISO either: said below, with examples.
        }
        throw new TypeConversionException("'" + value + "' is not a duration (examples: " + EXAMPLES + (offAllowed ? ", off)" : ")"));
    }
}
