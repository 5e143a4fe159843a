// Package pgtest starts throw-away PostgreSQL clusters for tests.
//
// Each Start runs initdb into a fresh temporary directory and starts a
// postmaster listening on 127.0.0.1 only, on a free port, with durability
// switched off (fsync, synchronous_commit, full_page_writes) for speed. The
// cluster is stopped and its directory removed by tb.Cleanup.
//
// The PostgreSQL server binaries (initdb, pg_ctl, postgres) are looked up on
// PATH, then in /usr/lib/postgresql/*/bin (highest version). initdb refuses
// to run as root, so when the tests run as root the cluster is owned by the
// "postgres" system user and the binaries are run through
// `runuser -u postgres --`.
package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// dirPrefix names the temporary directories, so that clusters orphaned
	// by a killed test binary can be found and removed by a later run.
	dirPrefix = "labrador-pgtest-"
	// ownerFile holds the pid of the test process that owns a cluster.
	ownerFile = "owner.pid"
	// startAttempts bounds retries when the chosen port is taken meanwhile.
	startAttempts = 3
	// runAsUser owns the clusters when the tests run as root.
	runAsUser = "postgres"
)

// binaries are the absolute paths of the server programs.
type binaries struct {
	initdb, pgCtl, postgres string
	asRoot                  bool // run them through runuser -u postgres --
	runuser                 string
	uid, gid                int // of runAsUser, when asRoot
}

var findBinaries = sync.OnceValues(func() (*binaries, error) {
	b, err := lookBinaries()
	if err != nil {
		return nil, err
	}
	if os.Geteuid() != 0 {
		return b, nil
	}
	b.asRoot = true
	if b.runuser, err = exec.LookPath("runuser"); err != nil {
		if _, e := os.Stat("/usr/sbin/runuser"); e != nil {
			return nil, errors.New("pgtest: running as root, but runuser (util-linux) is not installed; initdb refuses to run as root")
		}
		b.runuser = "/usr/sbin/runuser"
	}
	u, err := user.Lookup(runAsUser)
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, but there is no %q user to own the cluster (initdb refuses root): %v", runAsUser, err)
	}
	if b.uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("pgtest: uid of %q: %v", runAsUser, err)
	}
	if b.gid, err = strconv.Atoi(u.Gid); err != nil {
		return nil, fmt.Errorf("pgtest: gid of %q: %v", runAsUser, err)
	}
	return b, nil
})

// lookBinaries finds initdb, pg_ctl and postgres together: all three on
// PATH, else all three in the highest /usr/lib/postgresql/<version>/bin.
func lookBinaries() (*binaries, error) {
	var b binaries
	var errInitdb, errPgCtl, errPostgres error
	b.initdb, errInitdb = exec.LookPath("initdb")
	b.pgCtl, errPgCtl = exec.LookPath("pg_ctl")
	b.postgres, errPostgres = exec.LookPath("postgres")
	if errInitdb == nil && errPgCtl == nil && errPostgres == nil {
		for _, p := range []*string{&b.initdb, &b.pgCtl, &b.postgres} {
			if abs, err := filepath.Abs(*p); err == nil {
				*p = abs
			}
		}
		return &b, nil
	}

	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { // highest version first
		return versionOf(dirs[i]) > versionOf(dirs[j])
	})
	for _, dir := range dirs {
		c := binaries{
			initdb:   filepath.Join(dir, "initdb"),
			pgCtl:    filepath.Join(dir, "pg_ctl"),
			postgres: filepath.Join(dir, "postgres"),
		}
		if isExecutable(c.initdb) && isExecutable(c.pgCtl) && isExecutable(c.postgres) {
			return &c, nil
		}
	}

	var missing []string
	for name, err := range map[string]error{"initdb": errInitdb, "pg_ctl": errPgCtl, "postgres": errPostgres} {
		if err != nil {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	return nil, fmt.Errorf("pgtest: PostgreSQL server binaries not found (%s missing on PATH and no complete /usr/lib/postgresql/*/bin); install them, e.g. `apt-get install postgresql`",
		strings.Join(missing, ", "))
}

// versionOf turns /usr/lib/postgresql/15/bin or .../9.6/bin into a sortable number.
func versionOf(binDir string) float64 {
	v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	if err != nil {
		return -1
	}
	return v
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// Available reports why PostgreSQL cannot be started here (binaries missing), or nil.
func Available() error {
	_, err := findBinaries()
	return err
}

// Start starts a throw-away PostgreSQL cluster in a temp dir on a free
// 127.0.0.1 port and returns a DSN of the form
// "postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable".
// The cluster is stopped and removed by tb.Cleanup.
//
// Start may be called concurrently, several times per test; it must be called
// from the test's goroutine (it calls tb.Fatalf when the cluster cannot be
// started, including when the binaries are missing: it never skips).
func Start(tb testing.TB) string {
	tb.Helper()
	began := time.Now()
	dsn, stop, err := Launch()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := stop(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	tb.Logf("pgtest: PostgreSQL at %s, started in %v", dsn, time.Since(began).Round(time.Millisecond))
	return dsn
}

// Launch is Start for callers without a testing.TB (a TestMain): it
// returns the DSN and a function that stops and removes the cluster.
func Launch() (dsn string, stop func() error, err error) {
	b, err := findBinaries()
	if err != nil {
		return "", nil, err
	}
	sweepOnce.Do(sweepOrphans)
	c, err := newCluster(b)
	if err != nil {
		return "", nil, err
	}
	if err := c.initdb(); err != nil {
		c.destroy()
		return "", nil, err
	}
	var port int
	for attempt := 1; ; attempt++ {
		port, err = c.start()
		if err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			c.destroy()
			return "", nil, err
		}
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port), c.destroy, nil
}

// cluster is one temporary PostgreSQL instance.
type cluster struct {
	b       *binaries
	dir     string // owned by runAsUser when b.asRoot; holds data/, logs, socket
	data    string
	log     string // server log of the current start attempt
	attempt int
	started bool
}

func newCluster(b *binaries) (*cluster, error) {
	dir, err := os.MkdirTemp(tempRoot(), dirPrefix)
	if err != nil {
		return nil, err
	}
	c := &cluster{b: b, dir: dir, data: filepath.Join(dir, "data")}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if b.asRoot {
		// MkdirTemp made dir 0700 and root-owned; its parent must be
		// traversable by runAsUser, which /tmp is.
		if err := os.Chown(dir, b.uid, b.gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown %s to %s: %v", dir, runAsUser, err)
		}
	}
	return c, nil
}

// tempRoot is where clusters go: os.TempDir() unless the Unix socket path
// (<dir>/.s.PGSQL.<port>, at most 107 bytes) would be too long there.
func tempRoot() string {
	root := os.TempDir()
	if len(root)+len("/"+dirPrefix+"1234567890/.s.PGSQL.65535") > 100 {
		return "/tmp"
	}
	return root
}

// command builds a command running one of the PostgreSQL binaries, as
// runAsUser when running as root.
func (c *cluster) command(bin string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if c.b.asRoot {
		cmd = exec.Command(c.b.runuser, append([]string{"-u", runAsUser, "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Dir = c.dir // readable by runAsUser, unlike perhaps the package dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "PGTZ=UTC")
	return cmd
}

func (c *cluster) initdb() error {
	out, err := c.command(c.b.initdb,
		"-D", c.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync",
	).CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb failed: %v\n%s", err, tail(out, 30))
	}
	return nil
}

var errPortTaken = errors.New("port taken")

// start starts the postmaster on a fresh free port and waits until it
// accepts connections. The error wraps errPortTaken when the port was
// grabbed by someone else between choosing and binding it.
func (c *cluster) start() (int, error) {
	port, release, err := freePort()
	if err != nil {
		return 0, err
	}
	defer release()

	c.attempt++
	c.log = filepath.Join(c.dir, fmt.Sprintf("server.%d.log", c.attempt))
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F -c fsync=off -c max_connections=200 -c synchronous_commit=off -c full_page_writes=off", port, c.dir)
	out, err := c.command(c.b.pgCtl, "-D", c.data, "-l", c.log, "-w", "-t", "60", "-o", opts, "start").CombinedOutput()
	if err == nil {
		c.started = true
		return port, nil
	}
	logTail := c.logTail()
	// A failed start may leave a postmaster behind (e.g. pg_ctl timed out).
	c.stop()
	if strings.Contains(logTail, "Address already in use") || strings.Contains(logTail, "could not create any TCP/IP sockets") {
		return 0, fmt.Errorf("127.0.0.1:%d: %w: pg_ctl start: %v\nserver log (%s):\n%s", port, errPortTaken, err, c.log, logTail)
	}
	return 0, fmt.Errorf("pg_ctl start on 127.0.0.1:%d failed: %v\n%s\nserver log (%s):\n%s", port, err, bytes.TrimSpace(out), c.log, logTail)
}

func (c *cluster) logTail() string {
	b, err := os.ReadFile(c.log)
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	return string(tail(b, 30))
}

// stop shuts the postmaster down at once (the data are thrown away anyway);
// if pg_ctl fails it kills the postmaster named in postmaster.pid.
func (c *cluster) stop() error {
	out, err := c.command(c.b.pgCtl, "-D", c.data, "-m", "immediate", "-w", "-t", "30", "stop").CombinedOutput()
	if err == nil {
		return nil
	}
	if _, statErr := os.Stat(filepath.Join(c.data, "postmaster.pid")); os.IsNotExist(statErr) {
		return nil // was not running
	}
	if pid := postmasterPID(c.data); pid > 0 && isPostmasterOf(pid, c.data) {
		syscall.Kill(pid, syscall.SIGKILL)
		return nil
	}
	return fmt.Errorf("pg_ctl stop: %v\n%s", err, bytes.TrimSpace(out))
}

// destroy stops the cluster (if it runs) and removes its directory.
func (c *cluster) destroy() error {
	var errs []error
	if c.started {
		if err := c.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func postmasterPID(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// isPostmasterOf reports whether process pid is a postgres serving data, so
// that a stale postmaster.pid never gets an unrelated process killed.
func isPostmasterOf(pid int, data string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(string(cmdline), "\x00")
	return strings.HasSuffix(args[0], "postgres") && strings.Contains(string(cmdline), "\x00"+data+"\x00")
}

// Ports handed out by this process and not yet bound by their postmaster:
// the kernel rarely, but may, give the same ephemeral port to two
// concurrent bind-and-close probes.
var (
	portsMu  sync.Mutex
	reserved = map[int]bool{}
)

// freePort picks a port by binding 127.0.0.1:0 and closing the listener.
// release must be called once the port is bound (or abandoned).
func freePort() (port int, release func(), err error) {
	for range 10 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, nil, fmt.Errorf("choosing a free port: %v", err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		portsMu.Lock()
		taken := reserved[port]
		if !taken {
			reserved[port] = true
		}
		portsMu.Unlock()
		if !taken {
			return port, func() {
				portsMu.Lock()
				delete(reserved, port)
				portsMu.Unlock()
			}, nil
		}
	}
	return 0, nil, errors.New("choosing a free port: no unreserved port found")
}

// tail returns the last n lines of b.
func tail(b []byte, n int) []byte {
	b = bytes.TrimRight(b, "\n")
	i := len(b)
	for ; n > 0 && i > 0; n-- {
		i = bytes.LastIndexByte(b[:i], '\n')
		if i < 0 {
			return b
		}
	}
	return b[i+1:]
}

var sweepOnce sync.Once

// sweepOrphans removes clusters left by test binaries that died before their
// cleanups ran (a -timeout panic, a kill): those whose owner pid is gone.
// Directories without a readable owner file are left alone.
func sweepOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(tempRoot(), dirPrefix+"*"))
	b, err := findBinaries()
	if err != nil {
		return
	}
	for _, dir := range dirs {
		raw, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || pid <= 0 || pid == os.Getpid() || processExists(pid) {
			continue
		}
		c := &cluster{b: b, dir: dir, data: filepath.Join(dir, "data"), started: true}
		c.destroy()
	}
}

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
