// A TLS server on Java's JSSE, for fipsgate's interop tests.
// Usage: java TlsServer KEYSTORE.p12 PASSWORD PROTOCOLS SUITES
//   (PROTOCOLS and SUITES comma-separated JSSE names; named groups come from the
//   jdk.tls.namedGroups system property, signature schemes from jdk.tls.server.SignatureSchemes.)
// Listens on 127.0.0.1 (a free port) and first prints one JSON line: the port, and the protocols,
// cipher suites and named groups its SSLServerSocket has in effect, read back from JSSE itself.
// That line is the tests' ground truth.
import java.io.FileInputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

public class TlsServer {
    static String list(String[] items) {
        List<String> quoted = new ArrayList<>();
        for (String s : items) {
            quoted.add("\"" + s + "\"");
        }
        return "[" + String.join(",", quoted) + "]";
    }

    public static void main(String[] args) throws Exception {
        char[] password = args[1].toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (FileInputStream in = new FileInputStream(args[0])) {
            store.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(store, password);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket server = (SSLServerSocket) ctx.getServerSocketFactory()
            .createServerSocket(0, 64, InetAddress.getByName("127.0.0.1"));
        SSLParameters params = server.getSSLParameters();
        params.setProtocols(args[2].split(","));
        params.setCipherSuites(args[3].split(","));
        params.setUseCipherSuitesOrder(true);
        server.setSSLParameters(params);
        String groups = System.getProperty("jdk.tls.namedGroups", "");
        String schemes = System.getProperty("jdk.tls.server.SignatureSchemes", "");
        System.out.println("{\"port\":" + server.getLocalPort()
            + ",\"protocols\":" + list(server.getEnabledProtocols())
            + ",\"suites\":" + list(server.getEnabledCipherSuites())
            + ",\"groups\":" + list(groups.isEmpty() ? new String[0] : groups.split(","))
            + ",\"signature_schemes\":"
            + list(schemes.isEmpty() ? new String[0] : schemes.split(","))
            + ",\"server_order\":" + server.getSSLParameters().getUseCipherSuitesOrder()
            + ",\"version\":\"" + System.getProperty("java.version") + "\"}");
        System.out.flush();
        while (true) {
            SSLSocket socket = (SSLSocket) server.accept();
            new Thread(() -> {
                try (SSLSocket s = socket) {
                    s.setSoTimeout(5000);
                    s.startHandshake();
                    OutputStream out = s.getOutputStream();
                    out.write("hello from JSSE\n".getBytes());
                    out.flush();
                } catch (Exception e) {
                    // a probe the server refused
                }
            }).start();
        }
    }
}
