// Package exposureclass reports whether each ExposureClass can be used: its
// Gateway or IngressClass exists and the APIs it needs are installed, and
// whether it is the one default class. WebApps read classes themselves; this
// controller tells the platform team what is wrong with a class.
package exposureclass
