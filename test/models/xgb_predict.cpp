// xgb_predict - the core's XGBoost evaluator on the command line, for the
// oracle test (xgboost_oracle.py) that compares it with XGBoost's own
// predict:
//   xgb_predict MODEL.json FEATURES.csv
// reads the saved model (the file's text as XGBoost wrote it) and one row of
// comma-separated features per line (an empty field or "nan" is missing),
// and prints "prediction margin" per row with 9 significant digits (float32
// round-trips). A model the core refuses prints its error and exits 2.
#include "core/error.h"
#include "core/xgboost.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: xgb_predict MODEL.json FEATURES.csv\n";
        return 64;
    }
    std::ifstream model_file(argv[1]);
    std::stringstream text;
    text << model_file.rdbuf();
    kaireon::xgboost::Forest forest;
    try {
        forest = kaireon::xgboost::load_text(text.str());
    } catch (const kaireon::Error& e) {
        std::cout << "error: " << e.what() << "\n";
        return 2;
    }
    std::ifstream rows(argv[2]);
    std::string line;
    std::vector<float> features(forest.num_features);
    while (std::getline(rows, line)) {
        std::fill(features.begin(), features.end(), std::nanf(""));
        std::stringstream fields(line);
        std::string field;
        for (size_t i = 0; i < features.size() && std::getline(fields, field, ','); ++i)
            if (!field.empty() && field != "nan") features[i] = std::strtof(field.c_str(), nullptr);
        std::printf("%.9g %.9g\n", static_cast<double>(forest.predict(features.data())),
                    static_cast<double>(forest.margin(features.data())));
    }
    return 0;
}
