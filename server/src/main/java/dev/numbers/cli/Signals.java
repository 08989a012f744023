package dev.numbers.cli;

import dev.numbers.ops.Diagnostics;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Consumer;

/**
 * The signals the server takes: SIGINT, SIGTERM and SIGHUP, each a request for the clean
 * shutdown, named in it ("shutting down: SIGTERM"); and SIGUSR1, which reopens the log at its
 * path after a rotation (as nginx and most daemons do). The JVM's own handling runs shutdown
 * hooks without saying which signal came, and would let SIGUSR1 kill the process;
 * {@code sun.misc.Signal} (module {@code jdk.unsupported}, kept for exactly this by JEP 260) can
 * do both. It is called reflectively because javac's warning about it cannot be suppressed and
 * the build fails on warnings. Where it is missing, a shutdown hook stops the server, unnamed.
 *
 * <p>A signal the process inherited as ignored stays ignored (the JVM will not take it over): a
 * shell script's background job gets SIGINT that way, which {@link #onStop} reports so that the
 * caller can say so once the server runs.
 */
final class Signals {

    private static final List<String> STOP_SIGNALS = List.of("INT", "TERM", "HUP");

    private Signals() {
    }

    /**
     * Routes the stop signals to {@code stop}, which gets "SIGTERM" and the like and returns at
     * once; {@code awaitStopped} waits for the stop to finish (the fallback hook needs it: the
     * JVM halts when its hooks return).
     *
     * @return true if SIGINT was ignored by this process, so that Ctrl+C or {@code kill -INT}
     *     will not stop it
     */
    static boolean onStop(Consumer<String> stop, Runnable awaitStopped) {
        boolean sigintIgnored = false;
        try {
            for (String name : STOP_SIGNALS) {
                sigintIgnored |= handle(name, () -> stop.accept("SIG" + name)) && name.equals("INT");
            }
        } catch (InvocationTargetException e) {
            Diagnostics.warn("cannot take over the stop signals (" + e.getCause() + "); they stop the server unnamed");
            hook(stop, awaitStopped);
        } catch (ReflectiveOperationException | RuntimeException e) {
            hook(stop, awaitStopped);
        }
        return sigintIgnored;
    }

    /** Routes SIGUSR1 to {@code reopen}, which must return at once; without sun.misc.Signal, says it cannot. */
    static void onReopen(Runnable reopen) {
        try {
            handle("USR1", reopen);
        } catch (ReflectiveOperationException | RuntimeException e) {
            Diagnostics.warn("cannot take over SIGUSR1 (" + e + "): the log cannot be reopened, and SIGUSR1 ends the process");
        }
    }

    /**
     * Installs {@code action} as the handler of signal {@code name} ("TERM").
     *
     * @return true if the signal was ignored before (the handler is then not installed)
     */
    private static boolean handle(String name, Runnable action) throws ReflectiveOperationException {
        Class<?> signalClass = Class.forName("sun.misc.Signal");
        Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
        Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
        Object ignored = handlerClass.getField("SIG_IGN").get(null);
        Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                (proxy, method, args) -> switch (method.getName()) {
                    case "handle" -> {
                        action.run();
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "numbers-server on SIG" + name;
                });
        return handle.invoke(null, signalClass.getConstructor(String.class).newInstance(name), handler) == ignored;
    }

    private static void hook(Consumer<String> stop, Runnable awaitStopped) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.accept("a signal");
            awaitStopped.run();
        }, "signal-stop"));
    }
}
