// Package bounce reads the mail that comes back after delivery: delivery
// status notifications (RFC 3464, multipart/report with
// message/delivery-status) and complaint feedback reports (ARF, RFC 5965,
// message/feedback-report), from a single message, an mbox or a Maildir.
// It also makes and reads VERP envelope senders. It only parses; what a
// report does to a subscriber is the digest package's policy.
package bounce

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/papermail/papermail/internal/mimepart"
)

// ErrNotReport is returned by Parse for a message that is neither a
// delivery status notification nor a complaint report.
var ErrNotReport = errors.New("not a delivery status notification or complaint report")

// Kind is what a report is.
type Kind int

// Report kinds.
const (
	// DSN is a delivery status notification (RFC 3464).
	DSN Kind = iota + 1
	// Complaint is an abuse feedback report (ARF, RFC 5965).
	Complaint
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case DSN:
		return "dsn"
	case Complaint:
		return "complaint"
	}
	return "unknown"
}

// Report is one parsed report.
type Report struct {
	Kind Kind
	// MessageID is the report's own Message-ID (without brackets).
	MessageID string
	// To lists the addresses the report was delivered to, from To,
	// Delivered-To and X-Original-To: with VERP one of them carries the
	// token.
	To []string
	// ReportingMTA is the per-message Reporting-MTA of a DSN.
	ReportingMTA string
	// Recipients are the per-recipient blocks of a DSN.
	Recipients []Recipient
	// Feedback is the complaint of an ARF report.
	Feedback *Feedback
	// Original holds what the report quotes of the original message.
	Original Original
}

// Recipient is one per-recipient block of a DSN.
type Recipient struct {
	// Final and Original are the Final-Recipient and Original-Recipient
	// addresses (rfc822 type), lower-cased.
	Final, Original string
	// Action is failed, delayed, delivered, relayed or expanded.
	Action string
	// Status is the RFC 3463 status code ("5.1.1").
	Status string
	// Code is the SMTP reply code of an smtp Diagnostic-Code, or 0.
	Code int
	// Diagnostic is the Diagnostic-Code text ("550 5.1.1 <a@b>: User
	// unknown"), unfolded.
	Diagnostic string
	// RemoteMTA is the Remote-MTA name.
	RemoteMTA string
}

// Address is the recipient as the sender named it: Original-Recipient,
// else Final-Recipient.
func (r Recipient) Address() string {
	if r.Original != "" {
		return r.Original
	}
	return r.Final
}

// Feedback is the machine-readable part of an ARF report.
type Feedback struct {
	// Type is the Feedback-Type (abuse, fraud, other, not-spam, virus,
	// auth-failure).
	Type string
	// UserAgent names the reporter.
	UserAgent        string
	OriginalMailFrom string
	OriginalRcptTo   []string
	ArrivalDate      string
}

// Original is what a report quotes of the message it is about.
type Original struct {
	MessageID   string // without brackets
	EntityRefID string // X-Entity-Ref-ID
	ReturnPath  string
	From, To    string
}

// maxDepth bounds nested multiparts.
const maxDepth = 4

// Parse reads one message and returns its report, or ErrNotReport.
func Parse(r io.Reader) (*Report, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("%w: unreadable message: %v", ErrNotReport, err)
	}
	rep := &Report{MessageID: bareID(msg.Header.Get("Message-Id"))}
	for _, k := range []string{"To", "Delivered-To", "X-Original-To"} {
		for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(k)] {
			if list, err := mail.ParseAddressList(v); err == nil {
				for _, a := range list {
					rep.To = append(rep.To, strings.ToLower(a.Address))
				}
			} else if v = strings.TrimSpace(v); v != "" {
				rep.To = append(rep.To, strings.ToLower(strings.Trim(v, "<>")))
			}
		}
	}
	if err := rep.walk(textproto.MIMEHeader(msg.Header), msg.Body); err != nil {
		return nil, err
	}
	if rep.Kind == 0 {
		return nil, ErrNotReport
	}
	return rep, nil
}

// walk looks through the message's entities for the report parts. What
// cannot be read is skipped: a report is read as far as it goes.
func (rep *Report) walk(h textproto.MIMEHeader, body io.Reader) error {
	opt := mimepart.Options{MaxDepth: maxDepth, Lenient: true}
	return mimepart.Walk(h, body, opt, func(p *mimepart.Part) error {
		switch p.MediaType {
		case "message/delivery-status", "message/global-delivery-status":
			rep.deliveryStatus(p.Body)
		case "message/feedback-report":
			rep.feedback(p.Body)
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
			if rep.Original.MessageID == "" && rep.Original.EntityRefID == "" {
				rep.original(p.Body)
			}
		}
		return nil
	})
}

// fieldBlocks reads groups of header fields separated by blank lines.
func fieldBlocks(body io.Reader) []textproto.MIMEHeader {
	tr := textproto.NewReader(bufio.NewReader(io.LimitReader(body, 1<<20)))
	var out []textproto.MIMEHeader
	for len(out) < 10000 {
		// Blank lines between groups (sometimes several).
		for {
			b, err := tr.R.Peek(1)
			if err != nil {
				return out
			}
			if b[0] != '\r' && b[0] != '\n' {
				break
			}
			if _, err := tr.R.ReadByte(); err != nil {
				return out
			}
		}
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 {
			out = append(out, h)
		}
		if err != nil {
			return out
		}
	}
	return out
}

func (rep *Report) deliveryStatus(body io.Reader) {
	blocks := fieldBlocks(body)
	if len(blocks) == 0 {
		return
	}
	rep.Kind = DSN
	for i, b := range blocks {
		if i == 0 && b.Get("Final-Recipient") == "" {
			rep.ReportingMTA = typedValue(b.Get("Reporting-Mta"))
			continue
		}
		r := Recipient{
			Final:     addressValue(b.Get("Final-Recipient")),
			Original:  addressValue(b.Get("Original-Recipient")),
			Action:    strings.ToLower(firstWord(b.Get("Action"))),
			Status:    firstWord(b.Get("Status")),
			RemoteMTA: typedValue(b.Get("Remote-Mta")),
		}
		if !validStatus(r.Status) {
			r.Status = ""
		}
		typ, diag := splitTyped(b.Get("Diagnostic-Code"))
		r.Diagnostic = strings.Join(strings.Fields(diag), " ")
		if strings.EqualFold(typ, "smtp") {
			r.Code = replyCode(r.Diagnostic)
		}
		if r.Final == "" && r.Original == "" {
			continue
		}
		rep.Recipients = append(rep.Recipients, r)
	}
}

func (rep *Report) feedback(body io.Reader) {
	blocks := fieldBlocks(body)
	if len(blocks) == 0 {
		return
	}
	b := blocks[0]
	rep.Kind = Complaint
	f := &Feedback{
		Type:             strings.ToLower(firstWord(b.Get("Feedback-Type"))),
		UserAgent:        strings.TrimSpace(b.Get("User-Agent")),
		OriginalMailFrom: strings.ToLower(strings.Trim(strings.TrimSpace(b.Get("Original-Mail-From")), "<>")),
		ArrivalDate:      strings.TrimSpace(b.Get("Arrival-Date")),
	}
	for _, v := range b.Values("Original-Rcpt-To") {
		if a := strings.ToLower(strings.Trim(strings.TrimSpace(v), "<>")); a != "" {
			f.OriginalRcptTo = append(f.OriginalRcptTo, a)
		}
	}
	rep.Feedback = f
}

// original reads the header of the quoted message.
func (rep *Report) original(body io.Reader) {
	tr := textproto.NewReader(bufio.NewReader(io.LimitReader(body, 1<<20)))
	h, _ := tr.ReadMIMEHeader()
	rep.Original = Original{
		MessageID:   bareID(h.Get("Message-Id")),
		EntityRefID: strings.TrimSpace(h.Get("X-Entity-Ref-Id")),
		ReturnPath:  strings.ToLower(strings.Trim(strings.TrimSpace(h.Get("Return-Path")), "<>")),
		From:        strings.TrimSpace(h.Get("From")),
		To:          strings.TrimSpace(h.Get("To")),
	}
}

// splitTyped splits "rfc822; a@b" into its type and value.
func splitTyped(v string) (typ, value string) {
	typ, value, found := strings.Cut(v, ";")
	if !found {
		return "", strings.TrimSpace(v)
	}
	return strings.TrimSpace(typ), strings.TrimSpace(value)
}

// typedValue returns the value of a typed field ("dns; mx.example.org").
func typedValue(v string) string {
	_, value := splitTyped(v)
	return value
}

// addressValue returns the lower-cased address of an rfc822-typed field.
func addressValue(v string) string {
	typ, value := splitTyped(v)
	if typ != "" && !strings.EqualFold(typ, "rfc822") && !strings.EqualFold(typ, "utf-8") {
		return ""
	}
	value = strings.Trim(strings.TrimSpace(value), "<>")
	if strings.ContainsAny(value, " \t") || !strings.Contains(value, "@") {
		return ""
	}
	return strings.ToLower(value)
}

func firstWord(v string) string {
	f := strings.Fields(v)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// validStatus reports an RFC 3463 code: class 2, 4 or 5, then two numbers.
func validStatus(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] != "2" && parts[0] != "4" && parts[0] != "5" {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return false
		}
		if _, err := strconv.Atoi(p); err != nil {
			return false
		}
	}
	return true
}

// bareID strips the angle brackets and blanks of a Message-ID.
func bareID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	return strings.Trim(v, "<>")
}

// replyCode reads the reply code leading an SMTP diagnostic: "550 ..." or
// "550-5.1.1 ..." (a multi-line reply as quoted by some servers); 0 when
// there is none.
func replyCode(diag string) int {
	if len(diag) < 3 || len(diag) > 3 && diag[3] != ' ' && diag[3] != '-' {
		return 0
	}
	c, err := strconv.Atoi(diag[:3])
	if err != nil || c < 200 || c >= 600 {
		return 0
	}
	return c
}
