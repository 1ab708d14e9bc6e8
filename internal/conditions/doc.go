// Package conditions computes status conditions: a summary condition (Ready)
// derived from a declared set of dependent conditions, and the kstatus
// abnormal-true conditions (Reconciling, Stalled) that are present only while
// true. It is pure: it takes conditions in and returns conditions out, and
// leaves clocks and API writes to its caller.
package conditions
