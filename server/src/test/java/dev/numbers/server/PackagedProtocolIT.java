package dev.numbers.server;

/** The protocol contract against the packaged jar, started by the launcher as users start it. */
class PackagedProtocolIT extends ProtocolContract {

    @Override
    ServerUnderTest.Launcher launcher() {
        return PackagedServer::start;
    }
}
