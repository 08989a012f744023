package dev.numbers.cli;

import dev.numbers.ops.Diagnostics;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.function.Consumer;

/**
 * SIGINT, SIGTERM and SIGHUP, each a request for the server's clean shutdown, named in it
 * ("shutting down: SIGTERM"). The JVM's own handling runs shutdown hooks without saying which
 * signal came; {@code sun.misc.Signal} (module {@code jdk.unsupported}, kept for exactly this by
 * JEP 260) can. It is called reflectively because javac's warning about it cannot be suppressed
 * and the build fails on warnings. Where it is missing, a shutdown hook does the same, unnamed.
 *
 * <p>A signal the process inherited as ignored stays ignored (the JVM will not take it over): a
 * shell script's background job gets SIGINT that way, so it is said on stderr, with what to use.
 */
final class Signals {

    private static final List<String> STOP_SIGNALS = List.of("INT", "TERM", "HUP");

    private Signals() {
    }

    /**
     * Routes the stop signals to {@code stop}, which gets "SIGTERM" and the like and returns at
     * once; {@code awaitStopped} waits for the stop to finish (the fallback hook needs it: the
     * JVM halts when its hooks return).
     */
    static void onStop(Consumer<String> stop, Runnable awaitStopped) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            Object ignored = handlerClass.getField("SIG_IGN").get(null);
            for (String name : STOP_SIGNALS) {
                Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                        (proxy, method, args) -> switch (method.getName()) {
                            case "handle" -> {
                                stop.accept("SIG" + name);
                                yield null;
                            }
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == args[0];
                            default -> "stop on SIG" + name;
                        });
                Object previous = handle.invoke(null, signalClass.getConstructor(String.class).newInstance(name), handler);
                if (previous == ignored && name.equals("INT")) {
                    Diagnostics.warn("SIGINT is ignored by this process (a background job of a script?): stop it with SIGTERM");
                }
            }
        } catch (InvocationTargetException e) {
            Diagnostics.warn("cannot take over the stop signals (" + e.getCause() + "); they stop the server unnamed");
            hook(stop, awaitStopped);
        } catch (ReflectiveOperationException | RuntimeException e) {
            hook(stop, awaitStopped);
        }
    }

    private static void hook(Consumer<String> stop, Runnable awaitStopped) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.accept("a signal");
            awaitStopped.run();
        }, "signal-stop"));
    }
}
