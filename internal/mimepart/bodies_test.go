package mimepart

import (
	"bufio"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

func TestReadBodies(t *testing.T) {
	multi := func(parts ...string) string {
		s := "Content-Type: multipart/alternative; boundary=b" + crlf + crlf
		for _, p := range parts {
			s += "--b" + crlf + p + crlf
		}
		return s + "--b--" + crlf
	}
	tests := []struct {
		name, raw       string
		text, html      string
		nText, nHTML    int
		wantErrContains string
	}{
		{name: "single text, CRLF to LF", raw: "Content-Type: text/plain" + crlf + crlf + "a" + crlf + "b", text: "a\nb", nText: 1},
		{name: "latin1", raw: "Content-Type: text/plain; charset=ISO-8859-1" + crlf + crlf + "caf\xe9", text: "café", nText: 1},
		{name: "invalid UTF-8 replaced", raw: "Content-Type: text/plain; charset=utf-8" + crlf + crlf + "a\xffb", text: "a\uFFFDb", nText: 1},
		{name: "quoted-printable html", raw: "Content-Type: text/html" + crlf + "Content-Transfer-Encoding: quoted-printable" + crlf + crlf + "<p>x=3Dy</p>",
			html: "<p>x=y</p>", nHTML: 1},
		{name: "alternative, first of each kept, all counted",
			raw:  multi("Content-Type: text/plain"+crlf+crlf+"one", "Content-Type: text/html"+crlf+crlf+"<b>h</b>", "Content-Type: text/plain"+crlf+crlf+"two"),
			text: "one", html: "<b>h</b>", nText: 2, nHTML: 1},
		{name: "attachment skipped",
			raw:  multi("Content-Type: text/plain"+crlf+"Content-Disposition: attachment; filename=a.txt"+crlf+crlf+"file", "Content-Type: text/plain"+crlf+crlf+"body"),
			text: "body", nText: 1},
		{name: "body too large", raw: "Content-Type: text/plain" + crlf + crlf + strings.Repeat("x", MaxBody+1), wantErrContains: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(tt.raw)))
			if err != nil {
				t.Fatal(err)
			}
			b, err := ReadBodies(textproto.MIMEHeader(msg.Header), msg.Body, Options{})
			if tt.wantErrContains != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrContains) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErrContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Text != tt.text || b.HTML != tt.html || b.TextParts != tt.nText || b.HTMLParts != tt.nHTML {
				t.Errorf("got %+v, want text %q html %q, %d and %d parts", b, tt.text, tt.html, tt.nText, tt.nHTML)
			}
		})
	}
}
