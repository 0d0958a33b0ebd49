package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mail "github.com/wneessen/go-mail"
)

// baselineMain is the baseline child: it sends count copies of one
// pre-built message of about size bytes to addr with go-mail's Client,
// conns connections in parallel taking messages from one shared counter,
// each connection closed and re-dialed after maxPer messages (like
// papermail's smtp.max_per_connection).
func baselineMain(addr string, count, size, conns, maxPer int, noop bool) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("baseline: -addr %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("baseline: -addr %q: bad port: %w", addr, err)
	}
	if count < 1 || conns < 1 || maxPer < 1 || size < 1000 {
		return fmt.Errorf("baseline: need -count, -connections and -max-per-connection >= 1 and -size >= 1000")
	}
	msgs := make([]*mail.Msg, conns)
	for i := range msgs {
		if msgs[i], err = baselineMsg(size); err != nil {
			return err
		}
	}
	var next atomic.Int64
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[c] = baselineConn(host, port, msgs[c], &next, int64(count), maxPer, noop)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// baselineConn sends messages on one connection until the shared counter
// passes count.
func baselineConn(host string, port int, msg *mail.Msg, next *atomic.Int64, count int64, maxPer int, noop bool) error {
	opts := []mail.Option{mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS), mail.WithHELO("papers.example.org"),
		mail.WithTimeout(time.Minute)}
	if !noop {
		opts = append(opts, mail.WithoutNoop())
	}
	c, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("baseline: new go-mail client: %w", err)
	}
	ctx := context.Background()
	onConn, connected := 0, false
	defer func() {
		if connected {
			c.Close()
		}
	}()
	for {
		n := next.Add(1)
		if n > count {
			return nil
		}
		if !connected || onConn == maxPer {
			if connected {
				if err := c.Close(); err != nil {
					return fmt.Errorf("baseline: close connection: %w", err)
				}
			}
			if err := c.DialWithContext(ctx); err != nil {
				return fmt.Errorf("baseline: dial %s:%d: %w", host, port, err)
			}
			connected, onConn = true, 0
		}
		if err := msg.To(fmt.Sprintf("reader%07d@example.net", n)); err != nil {
			return err
		}
		msg.SetMessageID()
		if err := c.Send(msg); err != nil {
			return fmt.Errorf("baseline: send message %d: %w", n, err)
		}
		onConn++
	}
}

// baselineMsg builds a digest-like message (plain text and HTML
// alternatives, list headers) whose rendered size is within 1% of size.
func baselineMsg(size int) (*mail.Msg, error) {
	r := rand.New(rand.NewPCG(7, 8))
	var prose strings.Builder
	for prose.Len() < 4*size {
		p := synthPaper(r, time.Now(), "2601.00001")
		prose.WriteString(p.Title + ". " + p.Abstract + " ")
	}
	text := prose.String()
	build := func(textLen, htmlLen int) (*mail.Msg, int, error) {
		m := mail.NewMsg()
		if err := m.From("Papermail <digest@papers.example.org>"); err != nil {
			return nil, 0, err
		}
		if err := m.To("reader0000001@example.net"); err != nil {
			return nil, 0, err
		}
		m.Subject("Your papers for today: 8 new papers on your interests")
		m.SetDate()
		m.SetMessageID()
		m.SetBulk()
		m.SetGenHeader("List-Id", "papermail digest <papers.example.org>")
		m.SetGenHeader("List-Unsubscribe", "<https://papers.example.org/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>")
		m.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		m.SetGenHeader("X-Entity-Ref-ID", "0123456789abcdef01234567")
		m.SetBodyString(mail.TypeTextPlain, wrap(text[:textLen], 72))
		m.AddAlternativeString(mail.TypeTextHTML, htmlBody(text[:htmlLen]))
		n, err := m.WriteTo(io.Discard)
		return m, int(n), err
	}
	// Text is about 40% of the body, HTML 60%; scale until the size fits.
	body := size
	for range 8 {
		m, n, err := build(body*2/5, body*3/5)
		if err != nil {
			return nil, fmt.Errorf("baseline: build message: %w", err)
		}
		if d := n - size; d*100 <= size && -d*100 <= size {
			return m, nil
		}
		body = max(200, body*size/n)
	}
	return nil, fmt.Errorf("baseline: could not size a message to %d bytes", size)
}

// wrap breaks s into lines of at most width bytes at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for w := range strings.FieldsSeq(s) {
		if line > 0 && line+1+len(w) > width {
			b.WriteString("\n")
			line = 0
		} else if line > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

// htmlBody wraps prose into styled paragraphs like a digest's HTML part.
func htmlBody(s string) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><body style="margin:0;padding:0;background:#f6f6f4">` + "\n")
	for len(s) > 0 {
		k := min(len(s), 400)
		if i := strings.LastIndexByte(s[:k], ' '); i > 0 && k < len(s) {
			k = i + 1
		}
		b.WriteString(`<p style="margin:0 0 8px;font-size:15px;line-height:1.5">` + wrap(s[:k], 72) + "</p>\n")
		s = s[k:]
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
