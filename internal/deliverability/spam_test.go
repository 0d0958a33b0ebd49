package deliverability

import (
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/testutil"
)

// maxSpamScore is the most a typical digest or confirmation may score with
// SpamAssassin's local rules.
const maxSpamScore = 0.5

// spamAssassin returns the spamassassin executable; without it the test
// skips, except in CI where it fails.
func spamAssassin(t *testing.T) string {
	t.Helper()
	return testutil.Program(t, SpamAssassinPath, "spamassassin", "spamassassin")
}

// TestSpamAssassinScore scores a typical digest (eight papers of the real
// listing page, made by the digest runner) and a confirmation mail (from
// the outbox), both DKIM-signed with RSA from a realistic installation,
// with `spamassassin -L -t`, logs the rules that fired and fails above
// maxSpamScore.
func TestSpamAssassinScore(t *testing.T) {
	bin := spamAssassin(t)
	now := time.Now()
	papers, err := PagePapers(testutil.SharedData(t, "papers-page.txt"), now)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := signedInstance(t, "rsa", Options{Papers: papers, Now: now})
	ctx := testCtx(t, 3*time.Minute)
	sub, err := in.AddReader("reader@example.org", []string{"language models", "reinforcement learning", "diffusion models"})
	if err != nil {
		t.Fatal(err)
	}
	digestMail, err := in.Digest(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadBodies(digestMail)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.Text, "\n    More like this:\n"); n != 8 {
		t.Fatalf("the digest has %d papers, want a typical one of 8:\n%s", n, b.Text)
	}
	pending, confirmMail, err := in.Confirmation(ctx, "new.reader@example.org", []string{"graph neural networks", "speech recognition"})
	if err != nil {
		t.Fatal(err)
	}
	welcomeMail, err := in.Welcome(ctx, pending)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		raw  []byte
	}{{"digest", digestMail}, {"confirmation", confirmMail}, {"welcome", welcomeMail}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rep, err := SpamAssassin(ctx, bin, t.TempDir(), c.raw)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: SpamAssassin %s", c.name, rep)
			for _, r := range rep.Rules {
				t.Logf("  %5.1f %-24s %s", r.Points, r.Name, r.Description)
			}
			if rep.Score > maxSpamScore || rep.Spam {
				t.Errorf("%s scores %.1f, want at most %.1f; rules: %s", c.name, rep.Score, maxSpamScore, rep)
			}
		})
	}
}
