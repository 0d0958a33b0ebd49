package mimepart

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"strings"
	"testing"
)

const crlf = "\r\n"

// leaf is what a walk saw of one part.
type leaf struct {
	mediaType string
	depth     int
	attach    bool
	body      string
}

// walkRaw walks a raw message and returns its leaves.
func walkRaw(t *testing.T, raw string, opt Options) ([]leaf, error) {
	t.Helper()
	msg, err := mail.ReadMessage(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	var got []leaf
	err = Walk(textproto.MIMEHeader(msg.Header), msg.Body, opt, func(p *Part) error {
		b, err := io.ReadAll(p.Body)
		if err != nil {
			return fmt.Errorf("read %s: %w", p.MediaType, err)
		}
		got = append(got, leaf{p.MediaType, p.Depth, p.Attachment, string(b)})
		return nil
	})
	return got, err
}

func multi(kind, boundary string, parts ...string) string {
	return "Content-Type: multipart/" + kind + "; boundary=" + boundary + crlf + crlf +
		"--" + boundary + crlf + strings.Join(parts, crlf+"--"+boundary+crlf) + crlf + "--" + boundary + "--" + crlf
}

func nested(levels int) string {
	raw := "Content-Type: text/plain" + crlf + crlf + "deep"
	for i := range levels {
		b := fmt.Sprintf("b%d", i)
		raw = "Content-Type: multipart/mixed; boundary=" + b + crlf + crlf + "--" + b + crlf + raw + crlf + "--" + b + "--" + crlf
	}
	return raw
}

func TestWalk(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		opt  Options
		want []leaf
		err  error
	}{
		{"no content type is text/plain", "Subject: x" + crlf + crlf + "hello", Options{}, []leaf{{"text/plain", 0, false, "hello"}}, nil},
		{"quoted-printable", "Content-Type: text/html; charset=UTF-8" + crlf + "Content-Transfer-Encoding: Quoted-Printable" + crlf + crlf +
			"<p>caf=C3=A9 =3D long=" + crlf + "line</p>", Options{}, []leaf{{"text/html", 0, false, "<p>café = longline</p>"}}, nil},
		{"base64 with line breaks", "Content-Type: text/plain" + crlf + "Content-Transfer-Encoding: base64" + crlf + crlf + "aGVs" + crlf + " bG8=" + crlf,
			Options{}, []leaf{{"text/plain", 0, false, "hello"}}, nil},
		{"alternative and attachment", multi("mixed", "M",
			multi("alternative", "A", "Content-Type: text/plain"+crlf+crlf+"t", "Content-Type: text/html"+crlf+"Content-Transfer-Encoding: base64"+crlf+crlf+"PGI+"),
			"Content-Type: application/pdf"+crlf+"Content-Disposition: attachment; filename=x.pdf"+crlf+crlf+"%PDF"),
			Options{}, []leaf{{"text/plain", 2, false, "t"}, {"text/html", 2, false, "<b>"}, {"application/pdf", 1, true, "%PDF"}}, nil},
		{"report parts are leaves", multi("report", "R", "Content-Type: text/plain"+crlf+crlf+"sorry",
			"Content-Type: message/delivery-status"+crlf+crlf+"Status: 5.1.1"),
			Options{}, []leaf{{"text/plain", 1, false, "sorry"}, {"message/delivery-status", 1, false, "Status: 5.1.1"}}, nil},
		{"depth at the bound", nested(3), Options{MaxDepth: 3}, []leaf{{"text/plain", 3, false, "deep"}}, nil},
		{"too deep", nested(4), Options{MaxDepth: 3}, nil, ErrTooDeep},
		{"too deep, lenient", nested(4), Options{MaxDepth: 3, Lenient: true}, nil, nil},
		{"too many parts", multi("mixed", "M", "Content-Type: text/plain"+crlf+crlf+"1", "Content-Type: text/plain"+crlf+crlf+"2"),
			Options{MaxParts: 2}, []leaf{{"text/plain", 1, false, "1"}}, ErrTooManyParts},
		{"no boundary", "Content-Type: multipart/mixed" + crlf + crlf + "x", Options{}, nil, ErrNoBoundary},
		{"no boundary, lenient", "Content-Type: multipart/mixed" + crlf + crlf + "x", Options{Lenient: true}, nil, nil},
		{"bad content type", "Content-Type: text/" + crlf + crlf + "x", Options{}, nil, ErrContentType},
		{"bad part skipped when lenient", multi("mixed", "M", "Content-Type: /"+crlf+crlf+"x", "Content-Type: text/plain"+crlf+crlf+"ok"),
			Options{Lenient: true}, []leaf{{"text/plain", 1, false, "ok"}}, nil},
		{"unknown encoding", "Content-Type: text/plain" + crlf + "Content-Transfer-Encoding: uuencode" + crlf + crlf + "x", Options{}, nil, ErrEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := walkRaw(t, tt.raw, tt.opt)
			if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("leaves %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWalkCallerError: the callback's error ends the walk unchanged.
func TestWalkCallerError(t *testing.T) {
	stop := errors.New("stop")
	raw := multi("mixed", "M", "Content-Type: text/plain"+crlf+crlf+"1", "Content-Type: text/plain"+crlf+crlf+"2")
	msg, _ := mail.ReadMessage(strings.NewReader(raw))
	n := 0
	err := Walk(textproto.MIMEHeader(msg.Header), msg.Body, Options{Lenient: true}, func(*Part) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("error %v after %d parts, want stop after 1", err, n)
	}
}

func FuzzWalk(f *testing.F) {
	f.Add(multi("alternative", "A", "Content-Type: text/plain"+crlf+crlf+"t", "Content-Type: text/html"+crlf+"Content-Transfer-Encoding: base64"+crlf+crlf+"PGI+"), false)
	f.Add(nested(10), true)
	f.Add("Content-Type: text/plain"+crlf+"Content-Transfer-Encoding: quoted-printable"+crlf+crlf+"=ZZ=", false)
	f.Fuzz(func(t *testing.T, raw string, lenient bool) {
		msg, err := mail.ReadMessage(strings.NewReader(raw))
		if err != nil {
			return
		}
		parts := 0
		err = Walk(textproto.MIMEHeader(msg.Header), msg.Body, Options{MaxDepth: 4, MaxParts: 20, Lenient: lenient}, func(p *Part) error {
			parts++
			if p.Depth > 4 {
				t.Fatalf("part at depth %d beyond the bound 4", p.Depth)
			}
			_, err := io.Copy(io.Discard, p.Body)
			if lenient {
				return nil
			}
			return err
		})
		if parts > 20 {
			t.Fatalf("%d parts beyond the bound 20", parts)
		}
		_ = err
	})
}
