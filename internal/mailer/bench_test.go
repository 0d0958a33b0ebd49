package mailer

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/papermail/papermail/internal/smtptest"
)

// benchDigest builds a realistic daily digest: ten papers, about 14 KB of
// text and HTML together.
func benchDigest() *Message {
	var text, html strings.Builder
	html.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>Your papers</title></head>` +
		`<body style="margin:0;padding:0;background:#f6f6f4;font-family:Georgia,serif">` +
		`<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">` +
		`<table role="presentation" width="600" style="max-width:600px;background:#fff">`)
	text.WriteString("Your papers for Tuesday, 4 March 2025 — matched to: diffusion, retrieval, agents\n\n")
	abstract := "We study how large language models use retrieved passages when answering questions " +
		"and find that ranking quality matters more than passage count; a simple re-ranker closes " +
		"most of the gap to an oracle while halving latency. Code and data are released."
	for i := 1; i <= 10; i++ {
		title := fmt.Sprintf("Retrieval-Augmented Reasoning at Scale, Part %d: Über effiziente Agenten", i)
		url := fmt.Sprintf("https://arxiv.org/abs/2503.%05d", 1000+i)
		fmt.Fprintf(&text, "%d. %s\n   A. Author, B. Author, C. Author\n   %s\n   %s\n   More like this: https://digest.example.org/f/%d?v=1&t=abcdef0123456789\n\n",
			i, title, abstract, url, i)
		fmt.Fprintf(&html, `<tr><td style="padding:16px 24px;border-bottom:1px solid #eee">`+
			`<h2 style="font-size:18px;margin:0 0 4px"><a href="%s" style="color:#1a1a1a;text-decoration:none">%s</a></h2>`+
			`<p style="margin:0 0 8px;color:#666;font-size:13px">A. Author, B. Author, C. Author · ▲ %d</p>`+
			`<p style="margin:0 0 8px;font-size:15px;line-height:1.5">%s</p>`+
			`<p style="margin:0;font-size:13px"><a href="https://digest.example.org/f/%d?v=1&amp;t=abcdef0123456789">More like this</a></p></td></tr>`,
			url, title, 40+i, abstract, i)
	}
	html.WriteString(`<tr><td style="padding:24px;font-size:12px;color:#888">` +
		`<a href="https://digest.example.org/u/abc?t=tok">Unsubscribe</a></td></tr></table></td></tr></table></body></html>`)
	text.WriteString("Unsubscribe: https://digest.example.org/u/abc?t=tok\n")
	return &Message{
		From: "Papermail <digest@example.org>", To: "reader@example.net",
		Subject: "Your papers: Retrieval-Augmented Reasoning at Scale and 9 more", Text: text.String(), HTML: html.String(),
		ListUnsubscribe: "https://digest.example.org/u/abc?t=tok", ListID: "papermail digest <digest.example.org>",
		Bulk: true, EntityRefID: "2025-03-04-1",
	}
}

func BenchmarkCompose(b *testing.B) {
	m := benchDigest()
	if n := len(m.Text) + len(m.HTML); n < 12000 || n > 16000 {
		b.Fatalf("digest is %d bytes, want about 14 KB", n)
	}
	for _, alg := range []string{"none", "ed25519", "rsa"} {
		b.Run(alg, func(b *testing.B) {
			c := &Composer{}
			if alg != "none" {
				p, _, err := GenerateDKIMKey(alg)
				if err != nil {
					b.Fatal(err)
				}
				if c, err = NewComposer(&DKIMConfig{Domain: "example.org", Selector: "s", PrivateKeyFile: writeKey(b, p)}); err != nil {
					b.Fatal(err)
				}
			}
			raw, err := c.Compose(benchDigest())
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				msg := *m
				for pb.Next() {
					msg.MessageID = ""
					if _, err := c.Compose(&msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func BenchmarkDeliverSMTP(b *testing.B) {
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	tr, err := NewSMTP(Config{Host: srv.Host(), Port: srv.Port(), TLS: "none", Connections: 4}, nil, Hooks{})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := (&Composer{}).Compose(benchDigest())
	if err != nil {
		b.Fatal(err)
	}
	msg := benchDigest()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	in := make(chan *Job, 64)
	go func() {
		defer close(in)
		for i := 0; i < b.N; i++ {
			in <- &Job{Ref: uint64(i), Msg: msg, Raw: raw}
		}
	}()
	var failed atomic.Int64
	if err := tr.Deliver(context.Background(), in, func(j *Job) {
		if j.Result != Sent {
			failed.Add(1)
		}
	}); err != nil || failed.Load() > 0 {
		b.Fatalf("deliver: %v, %d failed", err, failed.Load())
	}
	if srv.Count() != b.N {
		b.Fatalf("server got %d of %d", srv.Count(), b.N)
	}
}
