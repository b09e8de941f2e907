// Shape of github.com/02amanag/upload-and-download-file@c397d402f1559fc8585580a0c7777824861162a7: dependencies
// committed under vendor/ (vendor/modules.txt), so the build needs no module download.
module example.com/govendor

go 1.15

require example.com/greet v1.0.0
