# numbers-server in a container. Not exercised by CI (no Docker engine on the build machine).
#   docker build -t numbers-server .
#   docker run --rm -p 4000:4000 -p 9999:9999 -v numbers-data:/data numbers-server
# `docker stop` sends SIGTERM: the server shuts down cleanly (log forced to disk) and exits 0.

FROM eclipse-temurin:17-jdk AS build
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn .mvn
COPY server/pom.xml server/pom.xml
COPY load/pom.xml load/pom.xml
COPY bench/pom.xml bench/pom.xml
RUN ./mvnw -B -q -pl server -am dependency:go-offline
COPY server/src server/src
RUN ./mvnw -B -q -pl server -am -DskipTests package

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --no-create-home --home-dir /data numbers \
    && mkdir -p /data /opt/numbers-server && chown numbers /data
COPY --from=build /src/server/target/numbers-server.jar /opt/numbers-server/numbers-server.jar
COPY jvm/server.options /opt/numbers-server/server.options
USER numbers
WORKDIR /data
VOLUME ["/data"]
EXPOSE 4000 9999
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "@/opt/numbers-server/server.options", "-jar", "/opt/numbers-server/numbers-server.jar"]
CMD []
