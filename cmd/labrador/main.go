// Command labrador is a GitLab-compatible server: GitLab API v3 and CI API
// v1 as GitLab CE 8.7 spoke them.
//
//	labrador serve [--listen ADDR] [--data-dir DIR] [--database URL] [--external-url URL]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/labrador-dev/labrador/persistence"
	"github.com/labrador-dev/labrador/persistence/gitstore"
	"github.com/labrador-dev/labrador/server"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "serve" {
		fmt.Fprintln(os.Stderr, "usage: labrador serve [--listen ADDR] [--data-dir DIR] [--database URL] [--external-url URL] [--max-body-bytes N]")
		os.Exit(2)
	}
	if err := serve(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "labrador:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", env("LABRADOR_LISTEN", "127.0.0.1:8080"), "address to listen on (env LABRADOR_LISTEN)")
	dataDir := fs.String("data-dir", env("LABRADOR_DATA_DIR", "./data"), "data directory (env LABRADOR_DATA_DIR)")
	dbURL := fs.String("database", env("LABRADOR_DATABASE_URL", ""), "postgres:// URL; empty for SQLite in the data dir (env LABRADOR_DATABASE_URL)")
	extURL := fs.String("external-url", env("LABRADOR_EXTERNAL_URL", ""), "URL clients use to reach the server; default http://<listen address> (env LABRADOR_EXTERNAL_URL)")
	maxBody, _ := strconv.ParseInt(env("LABRADOR_MAX_BODY_BYTES", "0"), 10, 64)
	fs.Int64Var(&maxBody, "max-body-bytes", maxBody, "request body cap in bytes; 0 for the default 10 MiB (env LABRADOR_MAX_BODY_BYTES)")
	shellSecret := fs.String("shell-secret-file", env("LABRADOR_SHELL_SECRET_FILE", ""), "file holding the secret gitlab-shell sends to /internal/*, created with a random secret when missing; default <data-dir>/.gitlab_shell_secret (env LABRADOR_SHELL_SECRET_FILE)")
	hookBackoff, err := time.ParseDuration(env("LABRADOR_HOOK_BACKOFF", "10s"))
	if err != nil {
		return fmt.Errorf("LABRADOR_HOOK_BACKOFF: %w", err)
	}
	fs.DurationVar(&hookBackoff, "hook-backoff", hookBackoff, "wait before a failed webhook's first retry, doubling after each further failure up to an hour (env LABRADOR_HOOK_BACKOFF)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// The API allocates per request and the machines have memory to spare:
	// collect garbage a quarter as often as Go's default, unless the
	// operator set GOGC.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(server.GCPercent)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Every project has a git repository: without git, stop now, saying so.
	repos, err := gitstore.Open(filepath.Join(*dataDir, "repositories"))
	if err != nil {
		return err
	}
	defer repos.Close()
	store, err := persistence.Open(ctx, persistence.Config{DatabaseURL: *dbURL, DataDir: *dataDir})
	if err != nil {
		return err
	}
	defer store.Close()

	rootPassword := os.Getenv("LABRADOR_ROOT_PASSWORD")
	generatedPassword := rootPassword == ""
	if generatedPassword {
		rootPassword = persistence.NewToken(16)
	}
	runnerToken := env("LABRADOR_RUNNER_REGISTRATION_TOKEN", persistence.NewToken(20))
	boot, err := store.Bootstrap(ctx, persistence.Bootstrap{RootPassword: rootPassword, RunnersRegistrationToken: runnerToken})
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	// Printed once, on the first start, so the operator can log in.
	if boot.RootCreated && generatedPassword {
		fmt.Fprintf(os.Stderr, "labrador: created admin user root with password %s\n", rootPassword)
	}
	if boot.RunnersRegistrationToken != "" && os.Getenv("LABRADOR_RUNNER_REGISTRATION_TOKEN") == "" {
		fmt.Fprintf(os.Stderr, "labrador: runner registration token %s\n", boot.RunnersRegistrationToken)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if *extURL == "" {
		*extURL = base
	}
	srv, err := server.New(server.Config{
		ExternalURL: *extURL, MaxBodyBytes: maxBody, DataDir: *dataDir, ShellSecretFile: *shellSecret, Repos: repos, Logger: log,
		Delivery: server.DelivererConfig{Backoff: server.ExponentialBackoff(hookBackoff)},
	}, store)
	if err != nil {
		ln.Close()
		return err
	}
	background := make(chan struct{})
	go func() { defer close(background); srv.Run(ctx) }()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "labrador: listening on %s (database: %s)\n", base, store.Dialect())

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-background // webhook workers stop; undelivered hooks stay queued
	return nil
}
