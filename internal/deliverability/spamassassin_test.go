package deliverability

import (
	"strings"
	"testing"
)

// saOutput is the shape of `spamassassin -t` output: the message with
// X-Spam-* fields added and the report after it.
const saOutput = "X-Spam-Checker-Version: SpamAssassin 4.0.1 (2024-03-25) on host\r\n" +
	"X-Spam-Level: *\r\n" +
	"X-Spam-Status: No, score=1.3 required=5.0 tests=FONT_INVIS_MSGID,HTML_MESSAGE,\r\n" +
	"\tMAILING_LIST_MULTI,NO_RECEIVED,NO_RELAYS,TVD_SPACE_RATIO autolearn=no\r\n" +
	"\tautolearn_force=no version=4.0.1\r\n" +
	"Subject: test\r\n" +
	"\r\n" +
	"body\r\n" +
	"Spam detection software, running on the system \"host\",\n" +
	"has NOT identified this incoming email as spam.\n" +
	"\n" +
	"Content analysis details:   (1.3 points, 5.0 required)\n" +
	"\n" +
	" pts rule name              description\n" +
	"---- ---------------------- --------------------------------------------------\n" +
	"-0.0 NO_RECEIVED            Informational: message has no Received headers\n" +
	" 0.0 HTML_MESSAGE           BODY: HTML included in message\n" +
	"-1.0 MAILING_LIST_MULTI     Multiple indicators imply a widely-seen list\n" +
	"                            manager\n" +
	" 2.3 FONT_INVIS_MSGID       Invisible text + suspicious message ID\n" +
	"\n"

func TestParseSpamReport(t *testing.T) {
	rep, err := ParseSpamReport([]byte(saOutput))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Spam || rep.Score != 1.3 || rep.Required != 5 {
		t.Errorf("verdict %v score %v required %v, want false 1.3 5", rep.Spam, rep.Score, rep.Required)
	}
	if got := strings.Join(rep.Tests, ","); got != "FONT_INVIS_MSGID,HTML_MESSAGE,MAILING_LIST_MULTI,NO_RECEIVED,NO_RELAYS,TVD_SPACE_RATIO" {
		t.Errorf("tests %s", got)
	}
	want := []Rule{
		{"NO_RECEIVED", 0, "Informational: message has no Received headers"},
		{"HTML_MESSAGE", 0, "BODY: HTML included in message"},
		{"MAILING_LIST_MULTI", -1, "Multiple indicators imply a widely-seen list manager"},
		{"FONT_INVIS_MSGID", 2.3, "Invisible text + suspicious message ID"},
	}
	if len(rep.Rules) != len(want) {
		t.Fatalf("rules %+v, want %+v", rep.Rules, want)
	}
	for i := range want {
		if rep.Rules[i] != want[i] {
			t.Errorf("rule %d: %+v, want %+v", i, rep.Rules[i], want[i])
		}
	}
	if s := rep.String(); s != "score 1.3 (required 5.0): NO_RECEIVED=-0.0 HTML_MESSAGE=0.0 MAILING_LIST_MULTI=-1.0 FONT_INVIS_MSGID=2.3" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseSpamReportVerdicts(t *testing.T) {
	for _, c := range []struct {
		name, out string
		spam      bool
		score     float64
		rules     int
		err       string
	}{
		{"spam", strings.Replace(saOutput, "No, score=1.3", "Yes, score=7.5", 1), true, 7.5, 4, ""},
		{"no tests", strings.Replace(saOutput, "tests=FONT_INVIS_MSGID,HTML_MESSAGE,\r\n\tMAILING_LIST_MULTI,NO_RECEIVED,NO_RELAYS,TVD_SPACE_RATIO", "tests=none", 1), false, 1.3, 4, ""},
		{"table at end of output", strings.TrimSuffix(saOutput, "\n"), false, 1.3, 4, ""},
		{"empty table", saOutput[:strings.Index(saOutput, "-0.0 NO_RECEIVED")] + "\n", false, 1.3, 0, ""},
		{"no status", strings.Replace(saOutput, "X-Spam-Status:", "X-Spam-State:", 1), false, 0, 0, "no X-Spam-Status"},
		{"status in body only", "Subject: x\r\n\r\nX-Spam-Status: No, score=0.0 required=5.0\r\n", false, 0, 0, "no X-Spam-Status"},
		{"bad score", strings.Replace(saOutput, "score=1.3", "score=high", 1), false, 0, 0, "does not parse"},
		{"no table", saOutput[:strings.Index(saOutput, " pts rule")], false, 0, 0, "no report table"},
		{"bad row", strings.Replace(saOutput, " 0.0 HTML_MESSAGE", "0,0 HTML_MESSAGE", 1), false, 0, 0, "does not parse"},
		{"no rule under heading", strings.Replace(saOutput, "---- ----", "==== ----", 1), false, 0, 0, "no rule under its heading"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := ParseSpamReport([]byte(c.out))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Spam != c.spam || rep.Score != c.score || len(rep.Rules) != c.rules {
				t.Errorf("spam %v score %v rules %d, want %v %v %d", rep.Spam, rep.Score, len(rep.Rules), c.spam, c.score, c.rules)
			}
		})
	}
}

func FuzzParseSpamReport(f *testing.F) {
	f.Add([]byte(saOutput))
	f.Add([]byte("X-Spam-Status: No, score=0.0 required=5.0 tests=none\n\n pts rule name description\n----\n"))
	f.Add([]byte("X-Spam-Status: Yes, score=-1 required=5\r\n\tx tests=A,\r\n\tB\r\n\r\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		rep, err := ParseSpamReport(out)
		if err != nil {
			return
		}
		if rep == nil {
			t.Fatal("nil report without an error")
		}
		for _, r := range rep.Rules {
			if r.Name == "" {
				t.Fatalf("rule without a name: %+v", rep.Rules)
			}
		}
	})
}
