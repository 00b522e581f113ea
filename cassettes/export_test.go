package cassettes

// Internals of the package that its external tests use.
const Header = header

var EncodeInteraction = encodeInteraction
