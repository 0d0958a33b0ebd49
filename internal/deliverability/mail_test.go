package deliverability

import (
	"strings"
	"testing"
)

func TestReadBodies(t *testing.T) {
	const crlf = "\r\n"
	multi := func(parts ...string) string {
		return "Content-Type: multipart/alternative; boundary=XX" + crlf + crlf +
			"--XX" + crlf + strings.Join(parts, crlf+"--XX"+crlf) + crlf + "--XX--" + crlf
	}
	for _, c := range []struct {
		name, raw  string
		text, html string
		err        string
	}{
		{"plain 7bit", "Content-Type: text/plain" + crlf + crlf + "hello" + crlf + "world" + crlf, "hello\nworld\n", "", ""},
		{"html quoted-printable", "Content-Type: text/html; charset=UTF-8" + crlf + "Content-Transfer-Encoding: quoted-printable" + crlf + crlf +
			"<p>caf=C3=A9 =3D long=" + crlf + "line</p>", "", "<p>café = longline</p>", ""},
		{"text base64", "Content-Type: text/plain" + crlf + "Content-Transfer-Encoding: base64" + crlf + crlf + "aGVs" + crlf + "bG8=" + crlf, "hello", "", ""},
		{"alternative", multi(
			"Content-Type: text/plain; charset=UTF-8"+crlf+"Content-Transfer-Encoding: quoted-printable"+crlf+crlf+"t=C3=BCr",
			"Content-Type: text/html; charset=UTF-8"+crlf+crlf+"<b>x</b>",
			"Content-Type: image/png"+crlf+crlf+"ignored",
		), "tür", "<b>x</b>", ""},
		{"two text parts", multi("Content-Type: text/plain"+crlf+crlf+"a", "Content-Type: text/plain"+crlf+crlf+"b"), "", "", "two text/plain parts"},
		{"no boundary", "Content-Type: multipart/alternative" + crlf + crlf + "x", "", "", "without a boundary"},
		{"unknown encoding", "Content-Type: text/plain" + crlf + "Content-Transfer-Encoding: uuencode" + crlf + crlf + "x", "", "", "unknown Content-Transfer-Encoding"},
		{"bad content type", "Content-Type: /" + crlf + crlf + "x", "", "", "Content-Type"},
		{"no header end", "Content-Type text/plain", "", "", "parse message"},
		{"bad base64", "Content-Type: text/plain" + crlf + "Content-Transfer-Encoding: base64" + crlf + crlf + "!!!!", "", "", "decode text/plain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := ReadBodies([]byte(c.raw))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Text != c.text || b.HTML != c.html {
				t.Errorf("text %q html %q, want %q %q", b.Text, b.HTML, c.text, c.html)
			}
		})
	}
}

func FuzzReadBodies(f *testing.F) {
	f.Add([]byte("Content-Type: text/plain\r\n\r\nhello\r\n"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+\r\n--XX--\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := ReadBodies(raw)
		if err != nil {
			return
		}
		if strings.Contains(b.Text, "\r\n") || strings.Contains(b.HTML, "\r\n") {
			t.Fatalf("CRLF left in %+v", b)
		}
	})
}
