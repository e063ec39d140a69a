package chromium

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// What a person brings to a page besides clicks: a screen of some width, a
// time zone, a keyboard, assistive technology that reads the page's
// accessibility tree.

// SetViewport makes the tab's window width by height CSS pixels; mobile
// emulates a phone (touch, the mobile viewport).
func (t *Tab) SetViewport(width, height int64, mobile bool) {
	t.tb.Helper()
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	t.do(fmt.Sprintf("viewport %dx%d", width, height), chromedp.EmulateViewport(width, height, opts...))
}

// SetTimezone sets the tab's time zone (an IANA name, e.g. Asia/Seoul), as
// the person's computer has it.
func (t *Tab) SetTimezone(tz string) {
	t.tb.Helper()
	t.do("time zone "+tz, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz})
		return err
	}))
}

// Keys for Press.
const (
	KeyTab   = kb.Tab
	KeyEnter = kb.Enter
)

// Press types keys (e.g. KeyTab) into whatever has the focus.
func (t *Tab) Press(keys string) {
	t.tb.Helper()
	t.do("press keys", chromedp.KeyEvent(keys))
}

// Focus gives sel the keyboard focus.
func (t *Tab) Focus(sel string) {
	t.tb.Helper()
	t.do("focus "+sel, chromedp.Focus(chromedp.CSS(sel)))
}

// AXNode is one node of the accessibility tree: what a screen reader gets.
type AXNode struct {
	Role, Name string
}

func axString(v *accessibility.Value) string {
	if v == nil || len(v.Value) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.Value, &s) != nil {
		return string(v.Value)
	}
	return s
}

// AccessibleName is the name assistive technology gives the element sel.
func (t *Tab) AccessibleName(sel string) string {
	t.tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, actionTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel)))
	if err != nil || len(nodes) == 0 {
		t.tb.Fatalf("chromium: no %s (%v)\n%s", sel, err, t.describe())
	}
	name, err := chromedp.Run(ctx, chromedp.Action[string](func(ctx context.Context, target *chromedp.Target) (string, error) {
		res, err := cdp.Call(ctx, target, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{
			BackendNodeID: nodes[0].BackendNodeID, FetchRelatives: new(false)})
		if err != nil || len(res.Nodes) == 0 {
			return "", fmt.Errorf("no accessibility node (%v)", err)
		}
		return axString(res.Nodes[0].Name), nil
	}))
	if err != nil {
		t.tb.Fatalf("chromium: accessible name of %s: %v", sel, err)
	}
	return name
}

// AXTree is the page's accessibility tree, ignored nodes left out.
func (t *Tab) AXTree() []AXNode {
	t.tb.Helper()
	ctx, cancel := context.WithTimeout(t.ctx, actionTimeout)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Action[[]AXNode](func(ctx context.Context, target *chromedp.Target) ([]AXNode, error) {
		res, err := cdp.Call(ctx, target, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			return nil, err
		}
		var out []AXNode
		for _, n := range res.Nodes {
			if !n.Ignored {
				out = append(out, AXNode{Role: axString(n.Role), Name: axString(n.Name)})
			}
		}
		return out, nil
	}))
	if err != nil {
		t.tb.Fatalf("chromium: accessibility tree: %v", err)
	}
	return nodes
}

// Request is one HTTP request the page made.
type Request struct {
	Method, URL string
	Headers     map[string]string // by canonical name (http.CanonicalHeaderKey)
	// Body is what the request sent (a POST's JSON), as Chromium reports
	// it: a very long body may be missing.
	Body string
}

// RecordRequests records every request the tab makes from now on; the
// function returned lists them so far.
func (t *Tab) RecordRequests() func() []Request {
	t.tb.Helper()
	var mu sync.Mutex
	var got []Request
	t.do("record requests", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		if _, err := cdp.Call(ctx, target, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		// Subscribed before this returns: no request that follows is missed.
		events := cdp.Events(t.ctx, target, network.RequestWillBeSent)
		go func() {
			for ev, err := range events {
				if err != nil {
					return
				}
				r := Request{Method: ev.Request.Method, URL: ev.Request.URL, Headers: map[string]string{}}
				for k, v := range ev.Request.Headers {
					r.Headers[http.CanonicalHeaderKey(k)] = fmt.Sprint(v)
				}
				for _, e := range ev.Request.PostDataEntries {
					r.Body += string(e.Bytes)
				}
				mu.Lock()
				got = append(got, r)
				mu.Unlock()
			}
		}()
		return nil
	}))
	return func() []Request {
		mu.Lock()
		defer mu.Unlock()
		return append([]Request(nil), got...)
	}
}

// Type replaces what the input sel holds by typing text into it key by key,
// as a person does (each key fires the input's events).
func (t *Tab) Type(sel, text string) {
	t.tb.Helper()
	if _, err := t.Eval(fmt.Sprintf(`(document.querySelector(%q).value = "")`, sel)); err != nil {
		t.tb.Fatalf("chromium: clear %s: %v\n%s", sel, err, t.describe())
	}
	t.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}
