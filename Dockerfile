# numbers-server in a container: a build stage with a JDK, a runtime stage with a JRE, the jar and
# its JVM options, run as a user of its own with the log in the volume /data.
#
#   docker build -t numbers-server .
#   docker run --rm -p 4000:4000 -p 127.0.0.1:9999:9999 -v numbers-data:/data numbers-server
#
# The base images are build arguments: any image with a JDK 17 or newer (java and javac on the
# PATH) builds, any with a Java 17 or newer and useradd runs, e.g.
#   --build-arg BUILD_IMAGE=debian-with-jdk17 --build-arg RUNTIME_IMAGE=debian-with-jre17
# container/check.sh builds and runs the image with podman and checks it (docs/deployment.md).
# `docker stop` sends SIGTERM: the server shuts down cleanly (log forced to disk) and exits 0.
ARG BUILD_IMAGE=eclipse-temurin:17-jdk
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# The reactor's poms first (Maven reads every module's, even building one), then a build with no
# sources: Maven, the plugins and the dependencies are a layer of their own, downloaded again
# only when a pom changes; the real build after it needs nothing more (-o).
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY server/pom.xml server/pom.xml
COPY load/pom.xml load/pom.xml
COPY dist/pom.xml dist/pom.xml
COPY bench/pom.xml bench/pom.xml
RUN ./mvnw -B -q -pl server -am -DskipTests package && rm -rf server/target
COPY server/src server/src
RUN ./mvnw -B -q -o -pl server -am -DskipTests package

FROM ${RUNTIME_IMAGE}
RUN useradd --system --uid 10001 --no-create-home --home-dir /data numbers \
    && mkdir -p /data /opt/numbers-server && chown numbers /data
COPY --from=build /src/server/target/numbers-server.jar /opt/numbers-server/numbers-server.jar
COPY jvm/server.options /opt/numbers-server/server.options
COPY LICENSE /opt/numbers-server/LICENSE
USER numbers
WORKDIR /data
VOLUME ["/data"]
EXPOSE 4000 9999
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "@/opt/numbers-server/server.options", "-jar", "/opt/numbers-server/numbers-server.jar"]
CMD []
