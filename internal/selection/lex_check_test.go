package selection
import "testing"
func TestLexParse(t *testing.T){ l,err:=ParseLexicon(builtinLexicon); if err!=nil {t.Fatal(err)}; t.Log(l.Groups(), len(l.entries)) }
