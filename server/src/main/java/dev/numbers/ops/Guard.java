package dev.numbers.ops;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One side-port connection's bounds, first in its pipeline ({@link SidePorts}, which says them):
 * the deadline of a request from its first byte, the idle close, room made or refused when the
 * port is full, the last word and the linger, no reading while replies wait. The loop's thread only. Its protocol tells
 * it, with {@link #completed}, where each request ends, and ends the connection with {@link #finish}.
 */
final class Guard extends ChannelDuplexHandler {

    private final SidePorts.Port port;
    private ChannelHandlerContext ctx;
    /** When a request was last completed (or the connection made): the quiet longest is evicted first. */
    private long quietSinceNanos = System.nanoTime();
    private ScheduledFuture<?> deadline;
    private boolean finishing;

    Guard(SidePorts.Port port) {
        this.port = port;
    }

    @Override
    public void channelActive(ChannelHandlerContext context) {
        ctx = context;
        Set<Guard> served = port.served();
        if (served.size() >= port.limits().maxConnections()) {
            long now = System.nanoTime();
            Guard quietest = served.stream().min(Comparator.comparingLong(g -> g.quietSinceNanos)).orElseThrow();
            if (now - quietest.quietSinceNanos < TimeUnit.MILLISECONDS.toNanos(port.limits().evictableAfterMillis())) {
                finish(port.lastWord().apply(SidePorts.Closing.REFUSED));
                return;
            }
            quietest.finish(port.lastWord().apply(SidePorts.Closing.EVICTED));
        }
        served.add(this);
        context.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object message) {
        if (finishing) {
            ((ByteBuf) message).release(); // after the answer: dropped, while the client closes
            return;
        }
        if (deadline == null) { // the first byte of a request
            deadline = context.executor().schedule(() -> finish(port.lastWord().apply(SidePorts.Closing.TOO_SLOW)),
                    port.limits().deadlineMillis(), TimeUnit.MILLISECONDS);
        }
        context.fireChannelRead(message);
    }

    /** The protocol completed a request: its deadline is off, and the connection is quiet from now. */
    void completed() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        quietSinceNanos = System.nanoTime();
    }

    /** True while a request has begun and not completed. */
    boolean requestUnderWay() {
        return deadline != null;
    }

    /** Sends {@code lastWord} (if not null), shuts the output, and closes once the client has, or after {@link SidePorts#LINGER_MS}. */
    void finish(Object lastWord) {
        if (finishing) {
            return;
        }
        finishing = true;
        completed();
        port.served().remove(this);
        SocketChannel channel = (SocketChannel) ctx.channel();
        channel.writeAndFlush(lastWord == null ? Unpooled.EMPTY_BUFFER : lastWord)
                .addListener(written -> channel.shutdownOutput());
        ctx.executor().schedule(() -> channel.close(), SidePorts.LINGER_MS, TimeUnit.MILLISECONDS);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
        if (event instanceof IdleStateEvent idle) {
            if (idle.state() == IdleState.READER_IDLE) {
                finish(port.lastWord().apply(SidePorts.Closing.IDLE));
            } else if (!context.channel().isWritable()) { // its replies have not moved for the deadline
                context.close();
            }
        } else {
            context.fireUserEventTriggered(event);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        context.channel().config().setAutoRead(context.channel().isWritable()); // replies wait: read no more
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        port.served().remove(this);
        completed();
        context.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (!(cause instanceof IOException)) { // a reset is a client's business; anything else is ours
            Diagnostics.unexpected(port.name() + " connection", cause);
        }
        context.close().addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }
}
