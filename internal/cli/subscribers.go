package cli

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/authors"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/usertext"
)

const subscribersUsage = `subscribers add EMAIL --interests "a; b" [--confirmed] | import FILE.csv [--confirm] | list [--state S] | links EMAIL | remove EMAIL | reactivate EMAIL|--all-bounced-since T`

func cmdSubscribers(e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, subscribersUsage)
	}
	switch args[0] {
	case "-h", "-help", "--help":
		return groupHelp(e, "subscribers", "add", "import", "list", "links", "remove", "reactivate")
	case "add":
		return subscribersAdd(e, args[1:])
	case "import":
		return subscribersImport(e, args[1:])
	case "list":
		return subscribersList(e, args[1:])
	case "remove":
		return subscribersRemove(e, args[1:])
	case "links":
		return subscribersLinks(e, args[1:])
	case "reactivate":
		return subscribersReactivate(e, args[1:])
	}
	return fmt.Errorf("%w: unknown subscribers command %q; %s", errUsage, args[0], subscribersUsage)
}

// problem words a subscription rule's problem for the command line,
// naming the flag or argument it came from.
func problem(err error, flagOf map[subscription.Field]string) error {
	ps, ok := subscription.ProblemsOf(err)
	if !ok {
		return err
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = cmp.Or(flagOf[p.Field], string(p.Field)) + ": " + p.Message
	}
	return fmt.Errorf("%w: %s", errUsage, strings.Join(lines, "; "))
}

func subscribersAdd(e *env, args []string) error {
	fs := newFlags(e, "subscribers add", `subscribers add EMAIL [--interests "a; b"] [--authors "Name; Name"] [--categories "cs.CL, cs.CV" [--category-mode filter|boost]] [--library FILE] [--confirmed]`)
	interests := fs.String("interests", "", "interests separated by ';' (may be empty with --authors, --categories or --library)")
	confirmed := fs.Bool("confirmed", false, "the person already agreed: make them active without a confirmation mail")
	tz := fs.String("timezone", "", "IANA time zone (default digest.timezone)")
	followed := fs.String("authors", "", "authors to follow, separated by ';' (\"Yann LeCun; Bengio, Yoshua\")")
	cats := fs.String("categories", "", "subject categories such as cs.CL, separated by ','")
	catMode := fs.String("category-mode", "boost", "filter (only papers in the categories) or boost")
	libFile := fs.String("library", "", "the reader's paper library: a BibTeX, RIS or CSL-JSON export or a list of arXiv ids/DOIs")
	email, err := oneArg(fs, args, "exactly one EMAIL")
	if err != nil {
		return err
	}
	x := subscription.Extras{Authors: *followed, Categories: *cats, CategoryMode: *catMode}
	if x.Library, err = readLibrary(e, *libFile); err != nil {
		return fmt.Errorf("%w (nothing was stored)", err)
	}
	req, err := subscription.ParseRequestWith(email, *interests, *tz, "cli", x)
	if err != nil {
		return problem(err, map[subscription.Field]string{subscription.FieldEmail: fmt.Sprintf("%q", email),
			subscription.FieldInterests: "--interests", subscription.FieldTimezone: "--timezone",
			subscription.FieldAuthors: "--authors", subscription.FieldCategories: "--categories",
			subscription.FieldCategoryMode: "--category-mode", subscription.FieldLibrary: "--library"})
	}
	p, err := e.parts()
	if err != nil {
		return err
	}
	if err := warnUnknownCategories(e, p.Store, req.Categories); err != nil {
		return err
	}
	if *confirmed {
		sub, added, err := p.Subscriptions.Vouch(req)
		if errors.Is(err, subscription.ErrReceiving) {
			return receivingError(req.Email)
		}
		if err != nil {
			return err
		}
		if added {
			fmt.Fprintf(e.stdout, "added %s (active)%s\n", req.Email, describeProfile(&req))
		} else {
			fmt.Fprintf(e.stdout, "updated %s (%s)%s\n", req.Email, sub.State, describeProfile(&req))
		}
		return nil
	}
	outcome, err := p.Subscriptions.SubscribeOutcome(req)
	if err != nil {
		return err
	}
	switch outcome {
	case subscription.Receiving:
		return receivingError(req.Email)
	case subscription.Waiting:
		fmt.Fprintf(e.stdout, "%s already waits to confirm these values: a confirmation mail went less than %s ago, none is sent again yet\n", req.Email, subscription.ConfirmInterval)
		return nil
	case subscription.TooSoon:
		return fmt.Errorf("%s was sent a confirmation mail less than %s ago: nothing changed and no mail was sent (try again later, or add --confirmed if they already agreed)", req.Email, subscription.ConfirmInterval)
	}
	fmt.Fprintf(e.stdout, "added %s (pending): a confirmation mail asks them to confirm%s\n", req.Email, describeProfile(&req))
	return sendQueued(e, p, req.Email)
}

// readLibrary reads the library file of --library; none when path is "".
func readLibrary(e *env, path string) ([]model.LibraryEntry, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(e.abs(path))
	if err != nil {
		return nil, fmt.Errorf("--library: %w", err)
	}
	defer f.Close()
	entries, err := subscription.ParseLibrary(f)
	if err != nil {
		return nil, fmt.Errorf("--library %s: %w", path, err)
	}
	return entries, nil
}

// receivingError refuses to add an address that gets digests already.
func receivingError(email string) error {
	return fmt.Errorf("%s is already on the list and receives digests: nothing changed (what they chose is theirs to change: send them their preferences link, see papermail subscribers links %s)", email, email)
}

// warnUnknownCategories warns about categories no stored paper has named:
// they are kept (papers in them may arrive later) but match nothing yet,
// which is most often a typo.
func warnUnknownCategories(e *env, st *store.Store, cats []string) error {
	if len(cats) == 0 {
		return nil
	}
	seen, err := st.Categories()
	if err != nil {
		return err
	}
	known := make(map[string]bool, len(seen))
	for _, c := range seen {
		known[strings.ToLower(c.Name)] = true
	}
	var unknown []string
	for _, c := range cats {
		if !known[strings.ToLower(c)] {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	hint := "no stored paper names a category yet"
	if len(seen) > 0 {
		names := make([]string, 0, 5)
		for _, c := range seen[:min(len(seen), 5)] {
			names = append(names, c.Name)
		}
		hint = fmt.Sprintf("the stored papers name %d, such as %s", len(seen), strings.Join(names, ", "))
	}
	fmt.Fprintf(e.stderr, "papermail: warning: --categories: no stored paper is in %s (%s); kept, but they match nothing until such papers arrive\n", strings.Join(unknown, ", "), hint)
	return nil
}

func subscribersImport(e *env, args []string) error {
	fs := newFlags(e, "subscribers import", "subscribers import FILE.csv [--confirm]")
	confirm := fs.Bool("confirm", false, "ask each imported address to confirm by mail (they stay pending until they do)")
	file, err := oneArg(fs, args, "one CSV file (header email,interests)")
	if err != nil {
		return err
	}
	f, err := os.Open(e.abs(file))
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(io.LimitReader(f, 256<<20))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: line 1: cannot read the header: %w", file, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ei, ok1 := col["email"]
	ii, ok2 := col["interests"]
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: line 1: the header must name the columns email and interests, got %q", file, strings.Join(header, ","))
	}
	zi, hasZone := col["timezone"]
	var reqs []subscription.Request
	var lines []int // the line of each request
	var problems []rowProblem
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			problems = append(problems, rowProblem{line, fmt.Sprintf("%s: %v", file, err)})
			break
		}
		if len(rec) <= max(ei, ii) {
			problems = append(problems, rowProblem{line, fmt.Sprintf("%s: line %d: expected the columns email and interests", file, line)})
			continue
		}
		zone := ""
		if hasZone && zi < len(rec) {
			zone = rec[zi]
		}
		req, err := subscription.ParseRequest(rec[ei], rec[ii], zone, "import")
		if err != nil {
			problems = append(problems, rowProblem{line, fmt.Sprintf("%s: line %d: %v", file, line, err)})
			continue
		}
		reqs = append(reqs, req)
		lines = append(lines, line)
	}
	// Addresses twice in the file are found in address order, the order
	// the rows are stored in (a map of every address cost 100 MB at 1M).
	order := byAddress(reqs, lines)
	for j, first := 1, 0; j < len(order); j++ {
		if order[j].email != order[first].email {
			first = j
			continue
		}
		problems = append(problems, rowProblem{order[j].line, fmt.Sprintf("%s: line %d: %s already appears on line %d",
			file, order[j].line, order[j].email, order[first].line)})
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b rowProblem) int { return a.line - b.line })
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.msg
		}
		return fmt.Errorf("nothing imported; fix these rows and import again:\n  %s", strings.Join(msgs, "\n  "))
	}
	p, err := e.parts()
	if err != nil {
		return err
	}
	if !*confirm {
		added, existing, err := importActive(p.Subscriptions, reqs, order)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "imported %d subscribers (active); %d already on the list were left unchanged\n", added, existing)
		return nil
	}
	added, existing, err := p.Subscriptions.Import(reqs, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d subscribers (pending, each asked to confirm); %d already on the list were left unchanged\n", added, existing)
	emails := make([]string, len(reqs))
	for i := range reqs {
		emails[i] = reqs[i].Email
	}
	return sendQueued(e, p, emails...)
}

// importBatch is how many rows of a checked CSV file one call of Import
// stores. The rows go in address order, so each batch extends the
// address index where the one before it ended (in the store, ids follow
// that order too), and a row is dropped once stored: the subscribers of
// one batch are in memory at a time, not a copy of the whole list.
// Measured with 1M rows: peak RSS 1.5 GiB with the whole list in one
// call.
var importBatch = 50_000

// rowProblem is what is wrong with one line of an imported file.
type rowProblem struct {
	line int
	msg  string
}

// importRow is one checked row of an imported file: its address, line,
// and place in the list of requests.
type importRow struct {
	email string
	line  int
	i     int
}

// byAddress lists the rows of reqs (at lines) by address, then line.
func byAddress(reqs []subscription.Request, lines []int) []importRow {
	order := make([]importRow, len(reqs))
	for i := range reqs {
		order[i] = importRow{reqs[i].Email, lines[i], i}
	}
	slices.SortFunc(order, func(a, b importRow) int {
		return cmp.Or(strings.Compare(a.email, b.email), a.line-b.line)
	})
	return order
}

// importActive stores reqs (checked, no address twice) as active
// subscribers in address order (order, from byAddress); it empties reqs
// as it goes.
func importActive(subs *subscription.Service, reqs []subscription.Request, order []importRow) (added, existing int, err error) {
	batch := make([]subscription.Request, 0, min(importBatch, len(reqs)))
	for start := 0; start < len(order); start += importBatch {
		batch = batch[:0]
		for _, r := range order[start:min(start+importBatch, len(order))] {
			batch = append(batch, reqs[r.i])
			reqs[r.i] = subscription.Request{}
		}
		a, x, err := subs.Import(batch, false)
		added, existing = added+a, existing+x
		if err != nil {
			return added, existing, err
		}
	}
	return added, existing, nil
}

func subscribersList(e *env, args []string) error {
	fs := newFlags(e, "subscribers list", "subscribers list [--state pending|active|paused|unsubscribed|bounced] [--format text|json]")
	state := fs.String("state", "", "only subscribers in this state")
	format := fs.String("format", "text", "text or json")
	if _, err := flags(fs, args); err != nil {
		return err
	}
	if *state != "" {
		states := make([]string, len(model.States))
		for i, s := range model.States {
			states[i] = string(s)
		}
		if err := oneOf("--state", *state, states...); err != nil {
			return err
		}
	}
	if err := oneOf("--format", *format, "text", "json"); err != nil {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
	if *format == "text" {
		fmt.Fprintln(tw, "ID\tEMAIL\tSTATE\tLAST DIGEST\tINTERESTS\tBOUNCE")
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
				row, err := json.Marshal(struct {
					ID         uint64        `json:"id"`
					Email      string        `json:"email"`
					State      model.State   `json:"state"`
					Interests  []string      `json:"interests"`
					LastDigest string        `json:"last_digest,omitempty"`
					Bounce     *model.Bounce `json:"bounce,omitempty"`
				}{s.ID, s.Email, s.State, s.Interests, s.LastDigest, s.Bounce})
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "\n  %s", usertext.EscapeJSON(row))
				continue
			}
			last := cmp.Or(s.LastDigest, "-")
			// Addresses and interests came from anyone's typing: escape
			// what a terminal would act on.
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, usertext.Printable(s.Email), s.State, usertext.Printable(last),
				usertext.Printable(strings.Join(s.Interests, "; ")), usertext.Printable(bounceText(s.Bounce)))
		}
		return nil
	})
	if *format == "json" {
		fmt.Fprintln(e.stdout, "\n]")
	}
	return errors.Join(err, tw.Flush())
}

func subscribersRemove(e *env, args []string) error {
	p, sub, err := oneSubscriber(e, "remove", args)
	if err != nil {
		return err
	}
	if err := p.Subscriptions.Erase(sub.ID); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %s and everything papermail held about them\n", sub.Email)
	return nil
}

// oneSubscriber reads the single EMAIL argument of `subscribers NAME` and
// finds that subscriber.
func oneSubscriber(e *env, name string, args []string) (*app.Parts, model.Subscriber, error) {
	fs := newFlags(e, "subscribers "+name, "subscribers "+name+" EMAIL")
	email, err := oneArg(fs, args, "exactly one EMAIL")
	if err != nil {
		return nil, model.Subscriber{}, err
	}
	addr, err := subscription.Email(email)
	if err != nil {
		return nil, model.Subscriber{}, problem(err, map[subscription.Field]string{subscription.FieldEmail: fmt.Sprintf("%q", email)})
	}
	p, err := e.parts()
	if err != nil {
		return nil, model.Subscriber{}, err
	}
	sub, err := p.Store.SubscriberByEmail(addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, model.Subscriber{}, fmt.Errorf("%s is not on the list: %w", addr, err)
	}
	if err != nil {
		return nil, model.Subscriber{}, err
	}
	return p, sub, nil
}

// subscribersLinks prints a subscriber's own links, for an operator who
// helps a reader locked out of their preferences.
func subscribersLinks(e *env, args []string) error {
	p, sub, err := oneSubscriber(e, "links", args)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s (%s)\npreferences: %s\nunsubscribe: %s\nfeed:        %s\n", sub.Email, sub.State,
		p.Links.Preferences(sub.ID), p.Links.Unsubscribe(sub.ID), p.Links.Feed(sub.ID))
	return nil
}

// bounceText shows a recorded bounce in one line: time, codes, source and
// the server's words.
func bounceText(b *model.Bounce) string {
	if b == nil {
		return "-"
	}
	parts := []string{b.At.UTC().Format(time.RFC3339)}
	if b.Code != 0 {
		parts = append(parts, strconv.Itoa(b.Code))
	}
	if b.Enhanced != "" {
		parts = append(parts, b.Enhanced)
	}
	parts = append(parts, "("+b.Source+")", strings.Join(strings.Fields(b.Reason), " "))
	return strings.Join(parts, " ")
}

func subscribersReactivate(e *env, args []string) error {
	const usage = "subscribers reactivate EMAIL | --all-bounced-since TIME (RFC 3339 time or YYYY-MM-DD)"
	fs := newFlags(e, "subscribers reactivate", usage)
	since := fs.String("all-bounced-since", "", "reactivate everyone bounced at or after this RFC 3339 time or date (a date is midnight in digest.timezone)")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if (len(pos) == 1) == (*since != "") || len(pos) > 1 {
		return fmt.Errorf("%w: %s", errUsage, usage)
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	now := time.Now()
	if *since != "" {
		t, err := parseSince(*since, e.cfg.Location())
		if err != nil {
			return fmt.Errorf("%w: --all-bounced-since: %v", errUsage, err)
		}
		subs, err := st.ReactivateBouncedSince(t, now)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "reactivated %d subscribers bounced since %s\n", len(subs), t.Format(time.RFC3339))
		for _, s := range subs {
			fmt.Fprintf(e.stdout, "  %s\n", s.Email)
		}
		return nil
	}
	addr, err := subscription.Email(pos[0])
	if err != nil {
		return problem(err, map[subscription.Field]string{subscription.FieldEmail: fmt.Sprintf("%q", pos[0])})
	}
	sub, err := st.SubscriberByEmail(addr)
	if err != nil {
		return err
	}
	if _, err := st.Reactivate(sub.ID, now); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "reactivated %s (active again; was bounced: %s)\n", addr, bounceText(sub.Bounce))
	return nil
}

// parseSince reads an RFC 3339 time or a date (midnight in loc).
func parseSince(v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-12-01T08:00:00Z) nor a date (2026-12-01)", v)
}

// describeProfile says what a new subscriber's digest is matched by.
func describeProfile(r *subscription.Request) string {
	var parts []string
	if len(r.Interests) > 0 {
		parts = append(parts, "interests: "+strings.Join(r.Interests, "; "))
	}
	if len(r.Authors) > 0 {
		names := make([]string, len(r.Authors))
		for i, a := range r.Authors {
			names[i] = authors.Display(a) // given name first, as mails show it
		}
		parts = append(parts, "following: "+strings.Join(names, ", "))
	}
	if len(r.Categories) > 0 {
		parts = append(parts, "categories ("+r.CategoryMode+"): "+strings.Join(r.Categories, ", "))
	}
	if len(r.Library) > 0 {
		parts = append(parts, fmt.Sprintf("library: %d papers", len(r.Library)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " with " + strings.Join(parts, "; ")
}
