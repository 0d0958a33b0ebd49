package render
import ("testing";"bytes";"text/template/parse")
func TestDump(t *testing.T){ e:=testEngine(t)
 for i, n := range []string{"subject","text","html"} {
   _, err := compileFast(n, i==2, nil)
   _ = err
 }
 m := e.digest
 t.Log(m.fast)
 _, err := compileFast(m.html.Name(), true, func(name string) *parse.Tree { if x := m.html.Lookup(name); x != nil { return x.Tree }; return nil })
 t.Log(err)
 _, err = compileFast(m.text.Name(), false, textLookup(m.text))
 t.Log(err)
 v := loadDigest(t, "digest.json")
 for i, f := range m.fast { if f == nil {continue}; var b bytes.Buffer; t.Log(i, f.execute(&b, v)) }
}
