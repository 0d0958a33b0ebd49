package digest

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/bounce"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// What a report did, per recipient (ReportResult.Action).
const (
	ReportBounced      = "bounced"
	ReportSoftBounce   = "soft-bounce"
	ReportUnsubscribed = "unsubscribed"
	ReportUnchanged    = "unchanged"
	ReportUnmatched    = "unmatched"
	ReportForged       = "forged"
	ReportNotReport    = "not-a-report"
)

// ReportResult is what one report did to one recipient.
type ReportResult struct {
	// Source names the message (file, mbox:N, stdin).
	Source string
	// Kind is dsn, complaint, or empty for a message that is no report.
	Kind string
	// Recipient is the address the report is about, when it names one.
	Recipient    string
	SubscriberID uint64
	Email        string
	// MatchedBy is how the subscriber was found: verp, message-id,
	// entity-ref or recipient.
	MatchedBy string
	Action    string
	// Detail is the status and the server's words, or why nothing changed.
	Detail string
}

// ApplyReports applies delivery status notifications and complaint reports
// (see internal/bounce) with the delivery policy: a permanent mailbox
// failure bounces the subscriber (reason, codes, time); a temporary
// mailbox failure (mailbox full) counts a soft-bounce day; a complaint
// unsubscribes. Failures that are not the mailbox's (relay, policy,
// delays) and reports that match no subscriber or digest change nothing
// and are reported. Subscribers are found by the VERP address the report
// was sent to, else the Message-ID or X-Entity-Ref-ID of the digest in
// the ledger, else (only without mail.verp, and when the report quotes no
// message) the recipient address. A report matched by its digest that
// lists several recipients applies to the subscriber only the block naming
// the subscriber's address: a digest has one recipient.
func (r *Runner) ApplyReports(msgs []bounce.Message) ([]ReportResult, error) {
	type parsed struct {
		name string
		rep  *bounce.Report
	}
	var reps []parsed
	var out []ReportResult
	var keys []string
	for _, m := range msgs {
		rep, err := bounce.Parse(bytes.NewReader(m.Raw))
		if err != nil {
			out = append(out, ReportResult{Source: m.Name, Action: ReportNotReport, Detail: err.Error()})
			continue
		}
		reps = append(reps, parsed{m.Name, rep})
		keys = append(keys, rep.Original.MessageID, rep.Original.EntityRefID)
	}
	sent, err := r.Store.FindSent(keys)
	if err != nil {
		return out, err
	}
	verp, _ := bounce.NewVERP(r.Config.VERPBase(), r.Store.Secret())
	for _, p := range reps {
		res, err := r.applyReport(p.name, p.rep, sent, verp)
		out = append(out, res...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// reportMatch is the subscriber and digest date a report is about.
type reportMatch struct {
	id     uint64
	date   string
	by     string
	forged string
}

// match finds who a report is about, most trustworthy first.
func (r *Runner) match(rep *bounce.Report, rcpt string, sent map[string]store.Sent, verp *bounce.VERP) reportMatch {
	if verp != nil {
		cands := append([]string(nil), rep.To...)
		cands = append(cands, rep.Original.ReturnPath)
		if rep.Feedback != nil {
			cands = append(cands, rep.Feedback.OriginalMailFrom)
		}
		for _, a := range cands {
			id, date, ok, err := verp.Parse(a)
			if errors.Is(err, bounce.ErrForged) {
				return reportMatch{forged: a}
			}
			if ok {
				return reportMatch{id: id, date: date, by: "verp"}
			}
		}
	}
	for _, k := range []struct{ key, by string }{{rep.Original.MessageID, "message-id"}, {rep.Original.EntityRefID, "entity-ref"}} {
		if s, ok := sent[k.key]; ok && k.key != "" {
			return reportMatch{id: s.Delivery.SubscriberID, date: s.Date, by: k.by}
		}
	}
	// The bare recipient is trusted only without VERP (with it, every
	// genuine report of a digest carries the signed address, and anyone
	// could write a report naming a subscriber), and only when the report
	// quotes no message: one that quotes a message we did not send is
	// about someone else's mail.
	quotes := rep.Original.MessageID != "" || rep.Original.EntityRefID != ""
	if rcpt != "" && !r.Config.Mail.VERP && !quotes {
		if sub, err := r.Store.SubscriberByEmail(rcpt); err == nil {
			return reportMatch{id: sub.ID, date: time.Now().In(r.defLoc).Format(DateLayout), by: "recipient"}
		}
	}
	return reportMatch{}
}

func (r *Runner) applyReport(name string, rep *bounce.Report, sent map[string]store.Sent, verp *bounce.VERP) ([]ReportResult, error) {
	now := time.Now().UTC()
	base := ReportResult{Source: name, Kind: rep.Kind.String()}
	if rep.Kind == bounce.Complaint {
		res := base
		f := rep.Feedback
		rcpt := ""
		if len(f.OriginalRcptTo) > 0 {
			rcpt = f.OriginalRcptTo[0]
		} else if a, err := parseAddr(rep.Original.To); err == nil {
			rcpt = a
		}
		res.Recipient = rcpt
		m := r.match(rep, rcpt, sent, verp)
		switch f.Type {
		case "abuse", "fraud", "other", "":
		default:
			res.Action, res.Detail = ReportUnchanged, "feedback type "+f.Type+" is not a complaint"
			return []ReportResult{res}, nil
		}
		return []ReportResult{r.settle(res, m, func(id uint64) (model.Subscriber, string, error) {
			sub, changed, err := r.Store.MarkComplained(id, now)
			if !changed {
				return sub, ReportUnchanged, err
			}
			return sub, ReportUnsubscribed, err
		}, "complaint ("+f.Type+", "+f.UserAgent+")")}, nil
	}

	var out []ReportResult
	if len(rep.Recipients) == 0 {
		res := base
		res.Action, res.Detail = ReportUnchanged, "the report names no recipient"
		return []ReportResult{res}, nil
	}
	for _, rc := range rep.Recipients {
		res := base
		res.Recipient = rc.Address()
		m := r.match(rep, rc.Address(), sent, verp)
		detail := strings.TrimSpace(rc.Status + " " + rc.Diagnostic)
		if len(rep.Recipients) > 1 && m.id != 0 && m.by != "recipient" && !r.names(m.id, rc) {
			// A digest has one recipient: the other blocks of a report
			// matched by its digest are about other mail.
			res.Action, res.Detail = ReportUnchanged, "not the recipient of the digest the report is about: "+rc.Action+" "+detail
			out = append(out, res)
			continue
		}
		if rc.Action != "failed" {
			res.Action, res.Detail = ReportUnchanged, rc.Action+": "+detail
			res = r.settle(res, m, nil, "")
			out = append(out, res)
			continue
		}
		reply := replyOf(rc)
		if reply == nil {
			res.Action, res.Detail = ReportUnchanged, "failed without a status code: "+detail
			out = append(out, r.settle(res, m, nil, ""))
			continue
		}
		b := model.Bounce{At: now, Reason: reply.Reply(), Code: reply.Code, Enhanced: reply.Enhanced, Source: model.BounceDSN}
		if rc.Code == 0 {
			b.Code = 0 // the report gave no SMTP code; the one derived from the status is not recorded
		}
		switch fault := mailer.FaultOf(reply); fault {
		case mailer.FaultMailbox:
			out = append(out, r.settle(res, m, func(id uint64) (model.Subscriber, string, error) {
				sub, changed, err := r.Store.MarkBounced(id, b)
				if !changed {
					return sub, ReportUnchanged, err
				}
				return sub, ReportBounced, err
			}, detail))
		case mailer.FaultMailboxSoft:
			date := m.date
			if date == "" {
				date = time.Now().In(r.defLoc).Format(DateLayout)
			}
			out = append(out, r.settle(res, m, func(id uint64) (model.Subscriber, string, error) {
				sub, bounced, err := r.Store.AddSoftBounce(id, date, r.Config.Bounce.SoftLimit, b)
				if bounced {
					return sub, ReportBounced, err
				}
				return sub, ReportSoftBounce, err
			}, detail))
		default:
			res.Action, res.Detail = ReportUnchanged, "not the reader's fault ("+fault.String()+"): "+detail
			out = append(out, r.settle(res, m, nil, ""))
		}
	}
	return out, nil
}

// names reports whether a recipient block is about subscriber id's
// address (as sent, or as finally delivered to).
func (r *Runner) names(id uint64, rc bounce.Recipient) bool {
	sub, err := r.Store.Subscriber(id)
	if err != nil {
		return true // settle reports a subscriber that is gone
	}
	return strings.EqualFold(rc.Original, sub.Email) || strings.EqualFold(rc.Final, sub.Email)
}

// settle applies change to the matched subscriber and fills res. A nil
// change only names the subscriber.
func (r *Runner) settle(res ReportResult, m reportMatch, change func(uint64) (model.Subscriber, string, error), detail string) ReportResult {
	switch {
	case m.forged != "":
		res.Action, res.Detail = ReportForged, "the VERP address "+m.forged+" does not carry our signature"
		return res
	case m.id == 0:
		d := res.Detail
		if d == "" {
			d = detail
		}
		res.Action, res.Detail = ReportUnmatched, "no subscriber or sent digest matches"
		if d != "" {
			res.Detail += "; " + d
		}
		return res
	}
	res.SubscriberID, res.MatchedBy = m.id, m.by
	if change == nil {
		if sub, err := r.Store.Subscriber(m.id); err == nil {
			res.Email = sub.Email
		}
		return res
	}
	sub, action, err := change(m.id)
	if errors.Is(err, store.ErrNotFound) {
		res.Action, res.Detail = ReportUnmatched, fmt.Sprintf("subscriber %d is gone; %s", m.id, detail)
		return res
	}
	if err != nil {
		res.Action, res.Detail = ReportUnchanged, "store: "+err.Error()
		return res
	}
	res.Email, res.Action, res.Detail = sub.Email, action, detail
	if action == ReportUnchanged {
		res.Detail = fmt.Sprintf("%s (subscriber is %s); %s", ReportUnchanged, sub.State, detail)
	}
	return res
}

// replyOf turns a failed recipient block into the reply the policy reads:
// the SMTP code of the diagnostic (or one implied by the status class)
// and the status code.
func replyOf(rc bounce.Recipient) *mailer.Error {
	code := rc.Code
	if code == 0 {
		switch {
		case strings.HasPrefix(rc.Status, "5."):
			code = 550
		case strings.HasPrefix(rc.Status, "4."):
			code = 450
		default:
			return nil
		}
	}
	// The diagnostic repeats the codes, once per line of a multi-line
	// reply ("550-5.1.1 words 550 5.1.1 more"): keep the words.
	text := rc.Diagnostic
	if rc.Code != 0 {
		c := strconv.Itoa(rc.Code)
		var words []string
		for _, f := range strings.Fields(text) {
			if f == c || f == c+"-" || f == rc.Status || f == c+"-"+rc.Status {
				continue
			}
			words = append(words, f)
		}
		text = strings.Join(words, " ")
	}
	return &mailer.Error{Stage: mailer.StageRcpt, Code: code, Enhanced: rc.Status, Text: text}
}

func parseAddr(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", err
	}
	return strings.ToLower(a.Address), nil
}
