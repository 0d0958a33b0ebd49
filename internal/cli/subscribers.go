package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/papermail/papermail/internal/address"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
)

const subscribersUsage = `subscribers add EMAIL --interests "a; b" [--confirmed] | import FILE.csv [--confirm] | list [--state S] | remove EMAIL`

func cmdSubscribers(e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, subscribersUsage)
	}
	switch args[0] {
	case "add":
		return subscribersAdd(e, args[1:])
	case "import":
		return subscribersImport(e, args[1:])
	case "list":
		return subscribersList(e, args[1:])
	case "remove":
		return subscribersRemove(e, args[1:])
	}
	return fmt.Errorf("%w: unknown subscribers command %q; %s", errUsage, args[0], subscribersUsage)
}

func newSubscriber(email string, interests []string, state model.State, source string, now time.Time) model.Subscriber {
	return model.Subscriber{Email: email, Interests: interests, State: state, Created: now, Updated: now,
		Hour: -1, Frequency: model.FrequencyDaily, Source: source}
}

func subscribersAdd(e *env, args []string) error {
	fs := newFlags(e, "subscribers add", `subscribers add EMAIL --interests "a; b" [--confirmed]`)
	interests := fs.String("interests", "", "interests separated by ';'")
	confirmed := fs.Bool("confirmed", false, "the person already agreed: make them active without a confirmation mail")
	tz := fs.String("timezone", "", "IANA time zone (default digest.timezone)")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: subscribers add needs exactly one EMAIL", errUsage)
	}
	addr, err := address.Normalize(pos[0])
	if err != nil {
		return fmt.Errorf("%q: %w", pos[0], err)
	}
	list, err := selection.ValidateInterests(*interests)
	if err != nil {
		return fmt.Errorf("--interests: %w", err)
	}
	if len(list) == 0 {
		return fmt.Errorf("%w: --interests is required (for example --interests \"graph neural networks; protein folding\")", errUsage)
	}
	if *tz != "" {
		if _, err := time.LoadLocation(*tz); err != nil || !strings.Contains(*tz, "/") && *tz != "UTC" {
			return fmt.Errorf("%w: --timezone %q is not an IANA zone name like Europe/Berlin", errUsage, *tz)
		}
	}
	now := time.Now().UTC()
	if !*confirmed {
		p, err := e.parts()
		if err != nil {
			return err
		}
		if _, err := p.store.SubscriberByEmail(addr); err == nil {
			return fmt.Errorf("%s is already on the list (see 'papermail subscribers list')", addr)
		}
		sub := newSubscriber(addr, list, model.StatePending, "cli", now)
		sub.Timezone = *tz
		if _, err := p.runner.QueueConfirmation(&sub, now); err != nil {
			return err
		}
		if e.daemon != nil {
			p.outbox.Wake()
		} else if _, err := p.outbox.Flush(e.ctx); err != nil {
			fmt.Fprintf(e.stderr, "papermail: confirmation mail queued but not sent yet: %v\n", err)
		}
		fmt.Fprintf(e.stdout, "added %s (pending): a confirmation mail asks them to confirm\n", addr)
		return nil
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	sub := newSubscriber(addr, list, model.StateActive, "cli", now)
	sub.Timezone = *tz
	sub.ConfirmedAt = now
	if err := st.AddSubscriber(&sub); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%s is already on the list", addr)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "added %s (active) with interests: %s\n", addr, strings.Join(list, "; "))
	return nil
}

func subscribersImport(e *env, args []string) error {
	fs := newFlags(e, "subscribers import", "subscribers import FILE.csv [--confirm]")
	confirm := fs.Bool("confirm", false, "ask each imported address to confirm by mail (they stay pending until they do)")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: subscribers import needs one CSV file (header email,interests)", errUsage)
	}
	f, err := os.Open(e.abs(pos[0]))
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(io.LimitReader(f, 256<<20))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: line 1: cannot read the header: %w", pos[0], err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ei, ok1 := col["email"]
	ii, ok2 := col["interests"]
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: line 1: the header must name the columns email and interests, got %q", pos[0], strings.Join(header, ","))
	}
	now := time.Now().UTC()
	var subs []model.Subscriber
	var problems []string
	seen := map[string]int{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", pos[0], err))
			break
		}
		if len(rec) <= max(ei, ii) {
			problems = append(problems, fmt.Sprintf("%s: line %d: expected the columns email and interests", pos[0], line))
			continue
		}
		addr, err := address.Normalize(rec[ei])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: line %d: %q: %v", pos[0], line, rec[ei], err))
			continue
		}
		list, err := selection.ValidateInterests(rec[ii])
		if err == nil && len(list) == 0 {
			err = errors.New("no interests")
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: line %d: interests: %v", pos[0], line, err))
			continue
		}
		if prev, dup := seen[addr]; dup {
			problems = append(problems, fmt.Sprintf("%s: line %d: %s already appears on line %d", pos[0], line, addr, prev))
			continue
		}
		seen[addr] = line
		state := model.StateActive
		if *confirm {
			state = model.StatePending
		}
		sub := newSubscriber(addr, list, state, "import", now)
		if !*confirm {
			sub.ConfirmedAt = now
		}
		subs = append(subs, sub)
	}
	if len(problems) > 0 {
		return fmt.Errorf("nothing imported; fix these rows and import again:\n  %s", strings.Join(problems, "\n  "))
	}
	if !*confirm {
		st, err := e.store()
		if err != nil {
			return err
		}
		existing, err := st.AddSubscribers(subs)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "imported %d subscribers (active); %d already on the list were left unchanged\n", len(subs)-len(existing), len(existing))
		return nil
	}
	p, err := e.parts()
	if err != nil {
		return err
	}
	added, skipped := 0, 0
	for i := range subs {
		if _, err := p.store.SubscriberByEmail(subs[i].Email); err == nil {
			skipped++
			continue
		}
		if _, err := p.runner.QueueConfirmation(&subs[i], now); err != nil {
			return fmt.Errorf("%s: %w (the rows before it were imported)", subs[i].Email, err)
		}
		added++
	}
	if e.daemon != nil {
		p.outbox.Wake()
	} else if _, err := p.outbox.Flush(e.ctx); err != nil {
		fmt.Fprintf(e.stderr, "papermail: confirmation mails queued but not all sent yet: %v\n", err)
	}
	fmt.Fprintf(e.stdout, "imported %d subscribers (pending, each asked to confirm); %d already on the list were left unchanged\n", added, skipped)
	return nil
}

func subscribersList(e *env, args []string) error {
	fs := newFlags(e, "subscribers list", "subscribers list [--state pending|active|paused|unsubscribed|bounced] [--format text|json]")
	state := fs.String("state", "", "only subscribers in this state")
	format := fs.String("format", "text", "text or json")
	if _, err := flags(fs, args); err != nil {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	if *format == "text" {
		fmt.Fprintln(tw, "ID\tEMAIL\tSTATE\tLAST DIGEST\tINTERESTS")
	}
	first := true
	if *format == "json" {
		fmt.Fprint(e.stdout, "[")
	}
	err = st.ForEachSubscriber(1000, func(b []model.Subscriber) error {
		for _, s := range b {
			if *state != "" && string(s.State) != *state {
				continue
			}
			if *format == "json" {
				if !first {
					fmt.Fprint(e.stdout, ",")
				}
				first = false
				row, _ := json.Marshal(struct {
					ID         uint64      `json:"id"`
					Email      string      `json:"email"`
					State      model.State `json:"state"`
					Interests  []string    `json:"interests"`
					LastDigest string      `json:"last_digest,omitempty"`
				}{s.ID, s.Email, s.State, s.Interests, s.LastDigest})
				fmt.Fprintf(e.stdout, "\n  %s", row)
				continue
			}
			last := s.LastDigest
			if last == "" {
				last = "-"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", s.ID, s.Email, s.State, last, strings.Join(s.Interests, "; "))
		}
		return nil
	})
	if *format == "json" {
		fmt.Fprintln(e.stdout, "\n]")
	}
	tw.Flush()
	return err
}

func subscribersRemove(e *env, args []string) error {
	fs := newFlags(e, "subscribers remove", "subscribers remove EMAIL")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: subscribers remove needs exactly one EMAIL", errUsage)
	}
	addr, err := address.Normalize(pos[0])
	if err != nil {
		return fmt.Errorf("%q: %w", pos[0], err)
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	sub, err := st.SubscriberByEmail(addr)
	if err != nil {
		return err
	}
	if err := st.DeleteSubscriber(sub.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s and everything papermail held about them\n", addr)
	return nil
}
