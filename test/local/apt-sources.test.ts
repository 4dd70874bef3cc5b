import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  codenameOf,
  findDebianArchive,
  machineDebianArchive,
  mirrorOverride,
  parseDeb822,
  parseOneLine,
  sourceListFor,
} from "../../local/apt-sources";

const ONE_LINE = `# See sources.list(5)
#deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 NETINST 20240210-11:27]/ bookworm main

deb http://security.debian.org/debian-security bookworm-security main contrib
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://ftp.de.debian.org/debian/ bookworm main non-free-firmware # the archive
deb-src http://ftp.de.debian.org/debian/ bookworm main
deb http://ftp.de.debian.org/debian/ bookworm-updates main
`;

const DEB822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe("reading apt's one-line sources", () => {
  test("options, comments anywhere, deb-src and a commented cdrom", () => {
    const entries = parseOneLine(ONE_LINE, "sources.list");
    expect(entries.map((e) => [e.origin, e.types, e.suites])).toEqual([
      ["sources.list:4", ["deb"], ["bookworm-security"]],
      ["sources.list:5", ["deb"], ["bookworm"]],
      ["sources.list:6", ["deb-src"], ["bookworm"]],
      ["sources.list:7", ["deb"], ["bookworm-updates"]],
    ]);
    expect(entries[1]).toMatchObject({
      uris: ["http://ftp.de.debian.org/debian/"],
      components: ["main", "non-free-firmware"],
      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
      trusted: false,
    });
  });

  test("the archive is the bookworm main entry, not security, updates or deb-src", () => {
    expect(findDebianArchive(parseOneLine(ONE_LINE, "sources.list"), "bookworm")).toEqual({
      uri: "http://ftp.de.debian.org/debian/",
      format: "one-line",
      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
      trusted: false,
      origin: "sources.list:5",
    });
  });

  test("an uncommented cdrom (its label has spaces) is skipped for the network entry after it", () => {
    const text =
      "deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD]/ bookworm main\n" +
      "deb [ trusted=yes ] file:/srv/mirror/debian bookworm main\n";
    const entries = parseOneLine(text, "l");
    expect(entries[0]?.uris).toEqual(["cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD]/"]);
    expect(findDebianArchive(entries, "bookworm")).toMatchObject({ uri: "file:/srv/mirror/debian", trusted: true });
  });
});

describe("reading apt's deb822 sources", () => {
  test("stanzas, comments inside a stanza, several suites in one entry", () => {
    const entries = parseDeb822(DEB822, "debian.sources");
    expect(entries.map((e) => [e.origin, e.uris, e.suites, e.components])).toEqual([
      ["debian.sources:1", ["http://deb.debian.org/debian"], ["bookworm", "bookworm-updates"], ["main"]],
      ["debian.sources:8", ["http://deb.debian.org/debian-security"], ["bookworm-security"], ["main"]],
    ]);
    expect(findDebianArchive(entries, "bookworm")).toEqual({
      uri: "http://deb.debian.org/debian",
      format: "deb822",
      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
      trusted: false,
      origin: "debian.sources:1",
    });
  });

  test("a disabled stanza is skipped; an inline Signed-By key is kept line for line", () => {
    const text = `Types: deb
URIs: http://old.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb deb-src
URIs: mirror+file:/etc/apt/mirrors/debian.list
Suites: bookworm
Components: main contrib
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOcHwPIJlgPu6JGLgUzJ6+G
 -----END PGP PUBLIC KEY BLOCK-----
`;
    const archive = findDebianArchive(parseDeb822(text, "f"), "bookworm");
    expect(archive?.uri).toBe("mirror+file:/etc/apt/mirrors/debian.list");
    expect(archive?.origin).toBe("f:7");
    expect(archive === undefined ? "" : sourceListFor(archive, "sid").text).toBe(`Types: deb
URIs: mirror+file:/etc/apt/mirrors/debian.list
Suites: sid
Components: main
Signed-By: 
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBGPL0BUBEADmW5NdOcHwPIJlgPu6JGLgUzJ6+G
 -----END PGP PUBLIC KEY BLOCK-----
`);
  });

  test("a third-party repository with a main component is not Debian's archive", () => {
    const text = `Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
Signed-By: /usr/share/keyrings/nodesource.gpg
`;
    expect(findDebianArchive(parseDeb822(text, "nodesource.sources"), "bookworm")).toBeUndefined();
  });
});

describe("choosing among several entries", () => {
  test("the machine's own suite wins over another Debian suite listed first", () => {
    const entries = parseOneLine(
      "deb http://a.example/debian sid main\ndeb http://b.example/debian bookworm main\n",
      "sources.list",
    );
    expect(findDebianArchive(entries, "bookworm")?.uri).toBe("http://b.example/debian");
    // Without a codename (or on sid, whose os-release names the next release), any Debian suite.
    expect(findDebianArchive(entries, undefined)?.uri).toBe("http://a.example/debian");
    expect(findDebianArchive(entries, "trixie")?.uri).toBe("http://a.example/debian");
  });

  test("an entry without main, or security and backports suites only, finds nothing", () => {
    const entries = parseOneLine(
      "deb http://a.example/debian bookworm contrib\n" +
        "deb http://security.debian.org/ bookworm/updates main\n" +
        "deb http://b.example/debian bookworm-backports main\n",
      "sources.list",
    );
    expect(findDebianArchive(entries, "bookworm")).toBeUndefined();
  });

  test("os-release's codename, quoted or not", () => {
    expect(codenameOf('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n')).toBe("bookworm");
    expect(codenameOf('VERSION_CODENAME="trixie"\n')).toBe("trixie");
    expect(codenameOf('NAME="Debian GNU/Linux"\n')).toBeUndefined();
  });
});

describe("the source list written for apt", () => {
  test("one-line entries keep signed-by and trusted", () => {
    const archive = { uri: "http://m.example/debian", format: "one-line" as const, trusted: true, origin: "x" };
    expect(sourceListFor({ ...archive, signedBy: "/k.gpg" }, "sid")).toEqual({
      name: "sources.list",
      text: "deb [signed-by=/k.gpg trusted=yes] http://m.example/debian sid main\n",
    });
    expect(sourceListFor({ ...archive, trusted: false }, "bookworm").text).toBe(
      "deb http://m.example/debian bookworm main\n",
    );
  });
});

describe("ZESTER_DEBIAN_MIRROR", () => {
  test("overrides the machine's sources and is checked with Debian's keyring", () => {
    expect(mirrorOverride("http://mirror.example/debian", true)).toEqual({
      uri: "http://mirror.example/debian",
      format: "one-line",
      signedBy: "/usr/share/keyrings/debian-archive-keyring.gpg",
      trusted: false,
      origin: "ZESTER_DEBIAN_MIRROR",
    });
    expect(mirrorOverride(undefined, true)).toBeUndefined();
    expect(mirrorOverride("", true)).toBeUndefined();
  });

  test("a value that is not a URI is refused, naming the variable and what is accepted", () => {
    expect(() => mirrorOverride("mirror.example/debian", true)).toThrow(
      /^ZESTER_DEBIAN_MIRROR=mirror\.example\/debian: must be an apt source URI with no spaces, e\.g\. http:\/\//,
    );
  });
});

describe("the machine's sources, read from files", () => {
  let etc: string;
  beforeEach(() => {
    etc = mkdtempSync(path.join(os.tmpdir(), "zester-etc-"));
    mkdirSync(path.join(etc, "apt", "sources.list.d"), { recursive: true });
    writeFileSync(path.join(etc, "os-release"), "VERSION_CODENAME=bookworm\n");
  });
  afterEach(() => {
    rmSync(etc, { recursive: true, force: true });
  });

  test("sources.list.d's .sources files count, other extensions do not", () => {
    const parts = path.join(etc, "apt", "sources.list.d");
    writeFileSync(path.join(parts, "a.list.disabled"), "deb http://disabled.example/debian bookworm main\n");
    writeFileSync(path.join(parts, "debian.sources"), DEB822);
    const archive = machineDebianArchive({}, etc);
    expect(archive.uri).toBe("http://deb.debian.org/debian");
    expect(archive.origin).toBe(`${path.join(parts, "debian.sources")}:1`);
  });

  test("sources.list is read before sources.list.d", () => {
    writeFileSync(path.join(etc, "apt", "sources.list"), "deb http://first.example/debian bookworm main\n");
    writeFileSync(path.join(etc, "apt", "sources.list.d", "debian.sources"), DEB822);
    expect(machineDebianArchive({}, etc).uri).toBe("http://first.example/debian");
  });

  test("the override wins over the files", () => {
    writeFileSync(path.join(etc, "apt", "sources.list.d", "debian.sources"), DEB822);
    expect(machineDebianArchive({ ZESTER_DEBIAN_MIRROR: "http://mirror.example/debian" }, etc).uri).toBe(
      "http://mirror.example/debian",
    );
  });

  test("no Debian entry and no override: says what it looked for, where, and how to override", () => {
    writeFileSync(path.join(etc, "apt", "sources.list.d", "debian.sources"), DEB822.replaceAll("bookworm", "jammy"));
    expect(() => machineDebianArchive({}, etc)).toThrow(
      new RegExp(
        "^no Debian archive in this machine's apt sources: looked for an enabled `deb` entry with the `main` " +
          "component of a Debian suite \\(bookworm preferred, else one of buster, .*, unstable; not a cdrom\\) " +
          "in .*debian\\.sources\\. Set ZESTER_DEBIAN_MIRROR to a Debian mirror's URI",
      ),
    );
  });
});
