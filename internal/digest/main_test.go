package digest_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/store"
)

// Environment of the outbox child process (see TestOutboxKilledMidDrain):
// the store file and the relay's port.
const (
	envOutboxChild = "PAPERMAIL_TEST_OUTBOX_STORE"
	envOutboxPort  = "PAPERMAIL_TEST_OUTBOX_PORT"
)

// TestMain runs the tests, or, started by a test as its child process,
// an outbox worker until it is killed.
func TestMain(m *testing.M) {
	if path := os.Getenv(envOutboxChild); path != "" {
		if err := outboxChild(path, os.Getenv(envOutboxPort)); err != nil {
			fmt.Fprintln(os.Stderr, "outbox child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// outboxChild delivers the outbox of the store at path to the relay on
// 127.0.0.1:port the way `papermail serve` does, until killed.
func outboxChild(path, port string) error {
	p, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	st, err := store.Open(path, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	comp, err := mailer.NewComposer(nil)
	if err != nil {
		return err
	}
	tr, err := mailer.NewSMTP(mailer.Config{Host: "127.0.0.1", Port: p, TLS: "none", Connections: outboxConns,
		Timeout: 10 * time.Second, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond}, comp, mailer.Hooks{})
	if err != nil {
		return err
	}
	ob := digest.NewOutbox(st, tr, slog.New(slog.DiscardHandler))
	ob.Poll = time.Hour
	ob.Run(context.Background())
	return nil
}
