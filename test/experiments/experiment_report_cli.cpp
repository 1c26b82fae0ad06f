// experiment_report_cli - the core's experiment statistics on the command
// line, for the oracle test (experiments_oracle.py) that recomputes them
// with python3-scipy:
//   experiment_report_cli < rows
// reads one variant per line, "id control impressions positives" (control
// 0 or 1), and prints experiments::report's JSON with 17 significant digits.
//   experiment_report_cli --assign TENANT EXPERIMENT HOLDOUT w1 w2 ... < customers
// prints the variant (index, or "holdout") of each customer id read, one
// per line, for the assignment proportions test.
#include "core/experiments.h"

#include <cstdlib>
#include <iostream>
#include <string>

using namespace kaireon;

int main(int argc, char** argv) {
    std::cin.tie(nullptr);  // a read need not flush the answers so far
    if (argc >= 5 && std::string(argv[1]) == "--assign") {
        experiments::Experiment e;
        e.id = argv[3];
        e.flow_id = "f";
        e.holdout_percent = std::strtod(argv[4], nullptr);
        for (int i = 5; i < argc; ++i) e.variants.push_back({std::to_string(i - 5), std::strtod(argv[i], nullptr), "", i == 5});
        std::string customer;
        while (std::getline(std::cin, customer)) std::cout << experiments::assign(e, argv[2], customer).variant << "\n";
        return 0;
    }
    std::vector<experiments::VariantCounts> rows;
    experiments::VariantCounts row;
    int control = 0;
    while (std::cin >> row.id >> control >> row.impressions >> row.positives) {
        row.control = control != 0;
        rows.push_back(row);
    }
    std::cout << experiments::report("e", rows).dump() << "\n";
    return 0;
}
