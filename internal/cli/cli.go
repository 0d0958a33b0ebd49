// Package cli is papermail's command line: it parses arguments, loads the
// configuration, wires the parts together in one order (config -> logger
// -> store -> selection/render/mailer -> digest -> web + scheduler) and
// runs one command. When `papermail serve` holds the store, other commands
// are forwarded to it over a unix socket in data_dir.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/store"
)

// errUsage marks an error in the command line (exit status 2).
var errUsage = errors.New("usage")

// env is what a command runs with.
type env struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	cwd    string
	cfg    config.Config
	log    *slog.Logger
	// configPath is the --config value, passed on when forwarding.
	configPath string
	// daemon is set when the command runs inside `papermail serve`, which
	// lends its open store and parts.
	daemon *daemon
	st     *store.Store
	owned  bool
	// interactive is true when stderr is a terminal (progress bars).
	interactive bool
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
	// local commands never forward to the daemon.
	local bool
}

var commands []command

func init() {
	commands = []command{
		{name: "serve", summary: "run the daemon: web pages, scheduled digests and feed fetches", run: cmdServe, local: true},
		{name: "demo", summary: "load sample papers, deliver a sample digest into the Maildir and serve the pages", run: cmdDemo, local: true},
		{name: "digest", summary: "send the digest for a date now to every active subscriber who has not had it", run: cmdDigest},
		{name: "ingest", summary: "store papers from files or URLs (formats auto|hf|arxiv|page|jsonl)", run: cmdIngest},
		{name: "export", summary: "write every stored paper as jsonl", run: cmdExport},
		{name: "preview", summary: "show the ranked selection for interests or a subscriber, without sending", run: cmdPreview},
		{name: "subscribers", summary: "add, import, list or remove subscribers", run: cmdSubscribers},
		{name: "status", summary: "show papers, subscribers and recent runs", run: cmdStatus},
		{name: "backup", summary: "write a consistent copy of the store (works while serve runs)", run: cmdBackup},
		{name: "restore", summary: "replace the store with a backup (--force to replace an existing one, kept as a dated copy; refused while in use)", run: cmdRestore, local: true},
		{name: "dkim", summary: "dkim keygen: make a DKIM key pair and print its DNS record", run: cmdDKIM, local: true},
		{name: "doctor", summary: "check the configuration the way a receiving mail server would", run: cmdDoctor, local: true},
		{name: "healthcheck", summary: "exit 0 when a running daemon answers on http.listen (for container health checks)", run: cmdHealthcheck, local: true},
		{name: "version", summary: "print the version, VCS revision and Go version of this build", run: cmdVersion, local: true},
	}
}

// Main runs papermail with os.Args and returns the exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cwd, _ := os.Getwd()
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, cwd: cwd, interactive: isTerminal(stderr)}
	err := e.run(args)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintln(stderr, "papermail:", err)
		return 2
	case errors.Is(err, flag.ErrHelp):
		return 0
	default:
		fmt.Fprintln(stderr, "papermail:", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "papermail emails each subscriber the trending research papers that match their interests, once a day.")
	fmt.Fprintln(w, "\nUsage: papermail [--config FILE] COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, fmt.Sprintf("  %-12s %s", c.name, c.summary))
	}
	sort.Strings(names)
	fmt.Fprintln(w, strings.Join(names, "\n"))
	fmt.Fprintln(w, "\nThe configuration file comes from --config or PAPERMAIL_CONFIG; every key can be set as PAPERMAIL_<KEY>.")
	fmt.Fprintln(w, "Run 'papermail COMMAND -h' for a command's flags.")
}

// run parses the global flags and dispatches one command.
func (e *env) run(args []string) error {
	var cmdArgs []string
	// --config may stand anywhere; pull it out first.
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config" || a == "-c":
			if i+1 >= len(args) {
				return fmt.Errorf("%w: %s needs a file name", errUsage, a)
			}
			e.configPath = args[i+1]
			i++
		case strings.HasPrefix(a, "--config="), strings.HasPrefix(a, "-config="):
			e.configPath = a[strings.IndexByte(a, '=')+1:]
		default:
			cmdArgs = append(cmdArgs, a)
		}
	}
	if len(cmdArgs) == 0 || cmdArgs[0] == "help" || cmdArgs[0] == "-h" || cmdArgs[0] == "--help" {
		usage(e.stdout)
		if len(cmdArgs) == 0 {
			return fmt.Errorf("%w: no command given", errUsage)
		}
		return nil
	}
	if cmdArgs[0] == "--version" || cmdArgs[0] == "-version" {
		cmdArgs[0] = "version"
	}
	var cmd *command
	for i := range commands {
		if commands[i].name == cmdArgs[0] {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		return fmt.Errorf("%w: unknown command %q (run 'papermail help')", errUsage, cmdArgs[0])
	}
	if e.daemon == nil {
		if e.configPath != "" && !filepath.IsAbs(e.configPath) {
			e.configPath = filepath.Join(e.cwd, e.configPath)
		}
		cfg, warnings, err := config.Load(e.configPath, os.Environ())
		if err != nil {
			return err
		}
		e.cfg = cfg
		e.log = newLogger(cfg, e.stderr)
		for _, w := range warnings {
			e.log.Warn(w)
		}
	}
	defer e.closeStore()
	err := cmd.run(e, cmdArgs[1:])
	if errors.Is(err, store.ErrLocked) && !cmd.local && e.daemon == nil {
		e.closeStore()
		return e.forward(cmdArgs)
	}
	return err
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// store opens the store, or lends the daemon's.
func (e *env) store() (*store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	if e.daemon != nil {
		e.st = e.daemon.store
		return e.st, nil
	}
	st, err := store.Open(e.cfg.DBPath(), store.Options{})
	if err != nil {
		return nil, err
	}
	e.st, e.owned = st, true
	return st, nil
}

func (e *env) closeStore() {
	if e.st != nil && e.owned {
		e.st.Close()
	}
	e.st, e.owned = nil, false
}

// abs resolves a path argument against the caller's working directory.
func (e *env) abs(p string) string {
	if p == "" || p == "-" || filepath.IsAbs(p) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(e.cwd, p)
}

// flags parses fs over args, letting flags stand before or after the
// positional arguments (Go's flag package stops at the first positional).
func flags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlags(e *env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: papermail %s\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// metrics returns the daemon's metrics when running inside it.
func (e *env) metrics() *metrics.Metrics {
	if e.daemon != nil {
		return e.daemon.parts.metrics
	}
	return nil
}

// TuneGC trades a little memory for much less garbage-collection work: a
// digest run allocates a few hundred kilobytes per message (rendered parts,
// the composed mail) but keeps little alive, so collecting at 4x the live
// heap, with a soft 64 MiB ceiling, saves most collector CPU (measured in
// docs/benchmarks.md) while memory stays flat. GOGC or GOMEMLIMIT in the
// environment win.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(64 << 20)
	}
}
