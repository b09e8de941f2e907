// Distilled from github.com/Aryota/go-web@d0b7ea1205de29652a2211f8de5081ada33d01db: the page template and
// the static folder are read from the working directory at run time, not compiled into the binary.
module example.com/gotemplates

go 1.19
