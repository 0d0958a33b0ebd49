// Package templates embeds papermail's built-in templates: the mail
// templates under mail/ (subject, plain-text and HTML parts of the digest
// and of the confirmation mail) and the web page templates under web/
// (web/layout.html wraps every other web/*.html page). Package render
// parses them at start-up; the config setting templates_dir replaces them
// file by file.
package templates

import "embed"

// FS holds mail/* and web/* with paths relative to this folder, such as
// "mail/digest.html" and "web/layout.html".
//
//go:embed mail web
var FS embed.FS
