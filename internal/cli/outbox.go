package cli

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/app"
)

// sendQueued sends the outbox now: inside the daemon by waking its outbox,
// outside it by flushing. It returns an error when mail to any of emails
// is still waiting afterwards (the relay refused or did not answer), naming
// the relay's last answer; the mail stays queued and `serve` retries it.
func sendQueued(e *env, p *app.Parts, emails ...string) error {
	if e.daemon != nil {
		p.Outbox.Wake()
		return nil
	}
	_, flushErr := p.Outbox.Flush(e.ctx)
	items, err := p.Store.DueOutbox(time.Now().AddDate(100, 0, 0), 100000)
	if err != nil {
		return err
	}
	want := make(map[string]bool, len(emails))
	for _, a := range emails {
		want[strings.ToLower(a)] = true
	}
	waiting, last := 0, ""
	for _, it := range items {
		to := strings.ToLower(it.To)
		if i := strings.LastIndexByte(to, '<'); i >= 0 {
			to = strings.TrimSuffix(to[i+1:], ">")
		}
		if want[to] {
			waiting++
			last = cmp.Or(last, it.LastError)
		}
	}
	if waiting == 0 {
		return nil
	}
	if last == "" && flushErr != nil {
		last = flushErr.Error()
	}
	last = cmp.Or(last, "not attempted")
	if len(emails) == 1 {
		return fmt.Errorf("the confirmation mail to %s is queued but could not be sent (%s); 'papermail serve' retries it", emails[0], last)
	}
	return fmt.Errorf("%d confirmation mails are queued but could not be sent (%s); 'papermail serve' retries them", waiting, last)
}
