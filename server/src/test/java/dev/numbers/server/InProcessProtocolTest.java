package dev.numbers.server;

/** The protocol contract against a server in this JVM. */
class InProcessProtocolTest extends ProtocolContract {

    @Override
    ServerUnderTest.Launcher launcher() {
        return InProcessServer::start;
    }
}
