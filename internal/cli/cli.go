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
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/usertext"
)

// errUsage marks an error in the command line (exit status 2).
var errUsage = errors.New("usage")

// errTempFail marks a failure worth retrying later: exit status 75
// (EX_TEMPFAIL), which mail systems running papermail as a pipe (bounces)
// take as "defer and try again".
var errTempFail = errors.New("temporary failure, try again later")

const exTempFail = 75

// env is what a command runs with.
type env struct {
	ctx context.Context
	// stdin is read by commands that take "-" (bounces); what they read
	// is kept in stdinData so a forwarded command gets it too.
	stdin     io.Reader
	stdinData []byte
	stdout    io.Writer
	stderr    io.Writer
	cwd       string
	cfg       config.Config
	log       *slog.Logger
	// configPath is the --config value, passed on when forwarding.
	configPath string
	// daemon is set when the command runs inside `papermail serve`, which
	// lends its open store and parts.
	daemon *daemon
	st     *store.Store
	owned  bool
	// interactive is true when stderr is a terminal (progress bars).
	interactive bool
	// create lets the command create a missing store (see createsStore);
	// verify makes it check every page of the store first (verifiesStore).
	create, verify bool
}

// createsStore reports whether a command line may create a missing store:
// only the commands that start a papermail or put the first data in. Any
// other one, run with a mistyped data_dir, must not make a new, empty
// store with a new link secret.
func createsStore(args []string) bool {
	switch args[0] {
	case "serve", "demo", "ingest":
		return true
	case "subscribers":
		return len(args) > 1 && (args[1] == "add" || args[1] == "import")
	}
	return false
}

// verifiesStore reports whether a command checks every page of the store
// before it starts: those that start long work (serve, demo, digest),
// judge the store (status, backup) or read it whole (export, subscribers
// list), and those that write papers or subscribers (ingest, subscribers
// add, import, remove, reactivate): a write to a damaged file could pass
// over the damage and make it harder to salvage. A damaged page then stops
// the command with one line before it did anything, instead of in the
// middle.
func verifiesStore(args []string) bool {
	switch args[0] {
	case "serve", "demo", "digest", "status", "backup", "export", "ingest":
		return true
	case "subscribers":
		return len(args) > 1
	}
	return false
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
		{name: "ingest", summary: "store papers from files or URLs (formats auto|hf|arxiv|biorxiv|rss|page|jsonl)", run: cmdIngest},
		{name: "export", summary: "write every stored paper as jsonl", run: cmdExport},
		{name: "preview", summary: "show the ranked selection for interests or a subscriber, without sending", run: cmdPreview},
		{name: "bounces", summary: "read bounce reports (RFC 3464 DSNs, ARF complaints) from a Maildir, mbox, file or stdin and apply them", run: cmdBounces},
		{name: "subscribers", summary: "add, import, list, remove or reactivate (after bounces) subscribers", run: cmdSubscribers},
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
	e := &env{ctx: ctx, stdin: os.Stdin, stdout: stdout, stderr: stderr, cwd: cwd, interactive: isTerminal(stderr)}
	err := e.run(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "papermail:", terminalText(err.Error()))
	switch {
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, errTempFail):
		return exTempFail
	}
	return 1
}

// terminalText is an error message as it may go to the terminal: a line
// holding anything that is not printable (an escape sequence a feed server
// or a file put in the message) is escaped (usertext.Printable); the line
// breaks of a message of several lines stay.
func terminalText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !utf8.ValidString(l) || strings.ContainsFunc(l, func(r rune) bool { return r != '\t' && usertext.NotText(r) }) {
			lines[i] = usertext.Printable(l)
		}
	}
	return strings.Join(lines, "\n")
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
	fmt.Fprintln(w, "Run 'papermail help COMMAND' (or 'papermail COMMAND -h') for a command's description and flags.")
}

// run parses the global flags and dispatches one command.
func (e *env) run(args []string) (err error) {
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
	if len(cmdArgs) == 0 {
		usage(e.stderr)
		return fmt.Errorf("%w: no command given", errUsage)
	}
	if cmdArgs[0] == "-h" || cmdArgs[0] == "--help" || cmdArgs[0] == "help" && len(cmdArgs) == 1 {
		usage(e.stdout)
		return nil
	}
	if cmdArgs[0] == "help" {
		// "help CMD [SUB]" is "CMD [SUB] -h".
		cmdArgs = append(append([]string{}, cmdArgs[1:]...), "-h")
	}
	if cmdArgs[0] == "--version" || cmdArgs[0] == "-version" {
		cmdArgs[0] = "version"
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == cmdArgs[0] })
	if i < 0 {
		return fmt.Errorf("%w: unknown command %q (run 'papermail help')", errUsage, cmdArgs[0])
	}
	cmd := &commands[i]
	if e.daemon == nil && wantsHelp(cmdArgs[1:]) {
		// Help needs no configuration, and a broken one must not hide it.
		e.cfg = config.Default()
		e.log = newLogger(e.cfg, e.stderr)
	} else if e.daemon == nil {
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
	e.create, e.verify = createsStore(cmdArgs), verifiesStore(cmdArgs)
	defer func() {
		// A store that fails to close after writes may not hold them:
		// the command did not succeed.
		err = errors.Join(err, e.closeStore())
	}()
	err = cmd.run(e, cmdArgs[1:])
	if errors.Is(err, store.ErrLocked) && !cmd.local && e.daemon == nil {
		if err := e.closeStore(); err != nil {
			return err
		}
		err := e.forward(cmdArgs)
		if errors.Is(err, errNoDaemon) && cmd.name == "bounces" {
			// Another command holds the store for a moment: a mail
			// system retries a pipe that exits EX_TEMPFAIL.
			return fmt.Errorf("%w: %w", errTempFail, err)
		}
		return err
	}
	return err
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	// config.Load accepts only levels slog parses (debug, info, warn,
	// error); a Config built in code with another gets info and a warning.
	var level slog.Level
	bad := level.UnmarshalText([]byte(cfg.Log.Level))
	if bad != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if cfg.Log.Format == "json" {
		log = slog.New(slog.NewJSONHandler(w, opts))
	} else {
		log = slog.New(slog.NewTextHandler(w, opts))
	}
	if bad != nil {
		log.Warn("log.level not understood; logging at info", "level", cfg.Log.Level, "err", bad)
	}
	return log
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
	st, err := app.OpenStore(e.cfg, store.Options{MustExist: !e.create})
	if err != nil {
		return nil, err
	}
	if e.verify {
		// Verify reads the file with pread, not through the memory map:
		// the command's memory holds only the pages it reads itself.
		if err := st.Verify(); err != nil {
			st.Close()
			return nil, err
		}
	}
	e.st, e.owned = st, true
	return st, nil
}

// closeStore closes the store if this command opened it.
func (e *env) closeStore() error {
	var err error
	if e.st != nil && e.owned {
		if cerr := e.st.Close(); cerr != nil {
			err = fmt.Errorf("closing the store %s: %w", e.st.Path(), cerr)
		}
	}
	e.st, e.owned = nil, false
	return err
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
// -h, -help or --help prints the command's help to stdout and returns
// flag.ErrHelp (exit 0); a bad flag returns one usage error, printed once
// by Main.
func flags(fs *flag.FlagSet, args []string) ([]string, error) {
	help := fs.Usage
	fs.Usage = func() {} // the flag package calls it on errors too
	defer func() { fs.Usage = help }()
	if wantsHelp(args) {
		help()
		return nil, flag.ErrHelp
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %s: %v (run 'papermail help %s')", errUsage, fs.Name(), err, fs.Name())
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

// oneArg is flags for a command that takes one positional argument and
// returns it; without exactly one, the usage error says what the command
// needs.
func oneArg(fs *flag.FlagSet, args []string, needs string) (string, error) {
	pos, err := flags(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("%w: %s needs %s", errUsage, fs.Name(), needs)
	}
	return pos[0], nil
}

// noArgs is flags for a command that takes no positional arguments.
func noArgs(fs *flag.FlagSet, args []string) error {
	pos, err := flags(fs, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: %s takes no arguments (got %q)", errUsage, fs.Name(), pos[0])
	}
	return err
}

// wantsHelp reports whether args ask for help before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// newFlags makes a command's flag set. Its help, printed for -h and by
// `papermail help NAME`, goes to stdout: the usage line, the command's
// description and its flags.
func newFlags(e *env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: papermail %s\n\n%s\n", usageLine, describe(name))
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(e.stdout, "\nFlags:")
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

// describe is the description of a command or subcommand ("subscribers
// add"): its own entry in subcommandHelp, else the command's summary.
func describe(name string) string {
	if d, ok := subcommandHelp[name]; ok {
		return d
	}
	first, _, _ := strings.Cut(name, " ")
	for _, c := range commands {
		if c.name == first {
			return strings.ToUpper(c.summary[:1]) + c.summary[1:] + "."
		}
	}
	return ""
}

// subcommandHelp describes the subcommands of the commands that have them.
var subcommandHelp = map[string]string{
	"subscribers add":        "Add one subscriber. Without --confirmed they are pending and get a confirmation mail; with it they are active at once.",
	"subscribers import":     "Import subscribers from a CSV file with the header email,interests (interests separated by ';'). Imported people are active unless --confirm asks each to confirm. Nothing is imported when any row is wrong.",
	"subscribers list":       "List subscribers, optionally only those in one state.",
	"subscribers remove":     "Erase one subscriber and what was recorded about them, for good.",
	"subscribers links":      "Print one subscriber's preferences, unsubscribe and feed links (to pass on to them).",
	"subscribers reactivate": "Make bounced subscribers active again: one address, or everyone bounced at or after a time (after a relay mistake, say). The recorded bounce is cleared and digests resume.",
	"dkim keygen":            "Make a DKIM key pair: the private key is written to a file and the DNS TXT record to publish is printed.",
}

// groupHelp prints the help of a command made of subcommands and returns
// flag.ErrHelp (exit 0).
func groupHelp(e *env, name string, subs ...string) error {
	fmt.Fprintf(e.stdout, "Usage: papermail %s SUBCOMMAND [flags] [args]\n\n%s\n\nSubcommands:\n", name, describe(name))
	for _, s := range subs {
		fmt.Fprintf(e.stdout, "  %-10s %s\n", s, subcommandHelp[name+" "+s])
	}
	fmt.Fprintf(e.stdout, "\nRun 'papermail help %s SUBCOMMAND' for its flags.\n", name)
	return flag.ErrHelp
}

// oneOf checks a flag's value against the values it allows; the error
// names them.
func oneOf(flagName, value string, allowed ...string) error {
	if slices.Contains(allowed, value) {
		return nil
	}
	return fmt.Errorf("%w: %s must be one of %s, got %q", errUsage, flagName, strings.Join(allowed, ", "), value)
}

// metrics returns the daemon's metrics when running inside it.
func (e *env) metrics() *metrics.Metrics {
	if e.daemon != nil {
		return e.daemon.parts.Metrics
	}
	return nil
}
